"""asldro.groundtruth."""
