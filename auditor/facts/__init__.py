"""The facts stage: ledger × reviews × analysis → what the controls judge about each change."""
