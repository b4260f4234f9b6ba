"""Console views, one module per flow."""
