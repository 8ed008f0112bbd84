"""Nameko dependencies of the visits service."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nameko.extensions import DependencyProvider

from crmkit import db as crmdb
from crmkit.blobs import blob_store


class BlobStore(DependencyProvider):
    """A blob store under ``prefix`` (GridFS on MongoDB, chunk collections on FerretDB);
    ``ensure_indexes`` runs on the service database at start."""

    def __init__(self, prefix: str, ensure_indexes: Callable[[Any], None]):
        self.prefix = prefix
        self.ensure_indexes = ensure_indexes

    def setup(self) -> None:
        self.db = crmdb.service_db("visits")
        self.store: Any = None

    def start(self) -> None:
        self.ensure_indexes(self.db)
        self.store = blob_store(self.db, self.prefix)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.store
