"""asldro.physics."""
