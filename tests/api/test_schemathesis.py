"""schemathesis over the whole OpenAPI document against the real stack, as a tenant admin:
no server errors and every answer true to its published schema. Bounded: a few examples per
operation, derandomized (the same cases every run)."""
from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 4
#: operations not run, each with its reason (keep this short)
EXCLUDED = {
    # revokes every token of the caller at once: the rest of the run would be unauthenticated
    ("POST", "/api/v1/auth/logout"),
}


@pytest.mark.timeout(1200)
def test_the_whole_document_holds(stack, http, t):
    doc = http.get("/api/v1/openapi.json").json()
    schema = schemathesis.openapi.from_dict(doc)
    headers = t.headers("admin")
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in EXCLUDED:
            continue
        ran += 1

        @hypothesis.settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @hypothesis.given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=stack.url, headers=headers, timeout=60)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every operation is tried; all failures are reported
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert ran >= 90
    assert not failures, "\n\n".join(failures)
