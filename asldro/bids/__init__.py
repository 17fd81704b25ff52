"""asldro.bids."""
