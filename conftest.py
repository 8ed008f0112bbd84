"""Root conftest: the shared fixtures of tests/fixtures.py for every test folder
(libs/, gateway/, services/*/tests, tests/)."""
pytest_plugins = ["tests.fixtures"]
