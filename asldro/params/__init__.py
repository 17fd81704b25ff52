"""asldro.params."""
