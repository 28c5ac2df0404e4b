"""Pages anyone may see: the front page and the health check."""
