"""Notify only consumes: it publishes no event and no service calls it (its RPCs are the
gateway's). Declared here so that the five services have one module each."""
from __future__ import annotations

PRODUCER = "notify"
