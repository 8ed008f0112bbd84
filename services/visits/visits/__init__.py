"""The visits service."""
