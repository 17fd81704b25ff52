"""asldro.pipelines."""
