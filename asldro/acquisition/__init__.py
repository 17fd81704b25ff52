"""asldro.acquisition."""
