"""BIDS-App front door (docs/design.md, BIDS-App command line)."""
