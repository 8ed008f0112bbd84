"""schemathesis over the whole OpenAPI document against the real stack, as a tenant admin:
no server errors and every answer true to its published schema. Bounded: a few examples per
operation, derandomized (the same cases every run). One test per operation (``-k tier`` runs
one), collected from the gateway's own declarations; the document the stack serves must list
exactly those operations."""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from gateway.app import create_app
from gateway.openapi import build_document
from gateway.settings import Settings

EXAMPLES = 4
#: operations not run, each with its reason (keep this short)
EXCLUDED = {
    # revokes every token of the caller at once: the rest of the run would be unauthenticated
    ("POST", "/api/v1/auth/logout"),
}


def _declared() -> list[tuple[str, str]]:
    doc = build_document(create_app(Settings(context_key="collect-only")).routes)
    return [(m.upper(), p) for p, item in doc["paths"].items() for m in item]


DECLARED = _declared()


@pytest.fixture(scope="module")
def schema(stack, http):
    return schemathesis.openapi.from_dict(http.get("/api/v1/openapi.json").json())


def test_the_served_document_lists_the_declared_operations(schema):
    served = sorted((op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations()))
    assert served == sorted(DECLARED)
    assert len([o for o in DECLARED if o not in EXCLUDED]) >= 90


@pytest.mark.parametrize(("method", "path"), [o for o in DECLARED if o not in EXCLUDED],
                         ids=[f"{m} {p}" for m, p in DECLARED if (m, p) not in EXCLUDED])
def test_the_operation_holds(schema, stack, t, method, path):
    op = schema[path][method]
    headers = t.headers("admin")

    @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @hypothesis.given(case=op.as_strategy())
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=stack.url, headers=headers, timeout=60)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()
