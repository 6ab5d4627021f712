"""Benchmarks that print their ratio against a bare baseline. Run all with `python -m bench`."""
