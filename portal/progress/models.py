"""Models of the progress feature."""
