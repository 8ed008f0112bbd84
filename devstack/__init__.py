"""Local process management for `make run` and the end-to-end tests."""
