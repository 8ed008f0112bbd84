"""HTTP route of the deployment settings the web apps need (the map tile URL template).

The pages' CSP admits the tile host for images (``gateway.web.csp_for``); without
``MAP_TILE_URL`` the maps have no base layer and the browser fetches nothing elsewhere."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.api import Api, Inputs
from gateway.schemas import web as s

api = Api(tags=["web"])


async def web_config(request: Request, _inp: Inputs) -> Response:
    settings = request.app.state.settings
    body = {"map": {"tile_url": settings.map_tile_url or None, "attribution": settings.map_tile_attribution or ""}}
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=300"})


ROUTES = [
    api.handler("GET", "/api/v1/web-config", web_config, "Deployment settings the web apps need (the map tile "
                "URL template)", response=s.WebConfig),
]
