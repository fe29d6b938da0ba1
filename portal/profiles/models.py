"""Models of the profiles feature."""
