"""Print the gateway's OpenAPI document, built from its registered routes without a broker.

    PYTHONPATH=gateway:libs/crmkit .venv/bin/python web/scripts/dump_openapi.py > web/src/api/openapi.json

Used by ``npm run gen:api`` / ``make api-client`` (web/scripts/gen-api.mjs).
"""
from __future__ import annotations

import json
import sys

from gateway.app import create_app
from gateway.openapi import build_document
from gateway.settings import Settings


class NoBroker:
    """The app is only built, never started: nothing is called."""

    connected = False

    async def call(self, *args: object, **kwargs: object) -> object:
        raise RuntimeError("no broker while dumping the OpenAPI document")


def main() -> int:
    app = create_app(Settings(context_key="openapi-dump"), bridge=NoBroker())
    json.dump(build_document(app.routes), sys.stdout, ensure_ascii=False, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
