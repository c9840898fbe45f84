"""The evidence stage: the normalised report every renderer reads, its builder, its tables."""
