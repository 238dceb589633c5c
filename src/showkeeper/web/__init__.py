"""HTTP layer: thin routes over service functions."""
