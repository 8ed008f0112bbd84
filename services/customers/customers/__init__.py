"""The customers service."""
