"""Development helpers: the one-command local site and synthetic data."""
