"""The declared contracts of /api/v1: one pydantic model per request body, query string and
answer, per service (``identity.py``, ``customers.py``, ...) over the shared pieces of
``base.py``. The same models validate requests and make the OpenAPI document."""
