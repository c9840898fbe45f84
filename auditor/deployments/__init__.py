"""Deployment records (Argo CD, Flux, pipelines' JSON Lines) read, kept in the store and joined
to the change ledger: what ran, from which approved change."""
