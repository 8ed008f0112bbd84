"""Contracts of the web apps' own settings (``GET /api/v1/web-config``)."""
from __future__ import annotations

from pydantic import Field

from gateway.schemas.base import Answer


class MapConfig(Answer):
    tile_url: str | None = Field(None, description="Leaflet URL template (MAP_TILE_URL); null: no base layer")
    attribution: str = ""


class WebConfig(Answer):
    map: MapConfig
