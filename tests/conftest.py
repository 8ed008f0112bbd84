"""Secrets of the test stack, importable as ``tests.conftest.TEST_*`` (fixtures live in tests/fixtures.py)."""
from tests.fixtures import TEST_CONTEXT_KEY, TEST_JWT_SECRET, TEST_OPERATOR_SECRET

__all__ = ["TEST_CONTEXT_KEY", "TEST_JWT_SECRET", "TEST_OPERATOR_SECRET"]
