"""BIDS-App front door (DESIGN.md, BIDS-App command line)."""
