"""The web app's built files (``web/dist``), served by the gateway (decision 0006).

- ``/`` sends phones to ``/m/`` (the mobile app) and everything else to ``/console/``
  (302, ``Vary: User-Agent``).
- ``/m/…`` and ``/console/…``: a file of the build when there is one, else the shell's
  ``index.html`` (the apps route in the browser's history). HTML is ``no-cache`` (always
  revalidated, so a new release is picked up at once) and carries a strict
  Content-Security-Policy.
- ``/assets/…``: Vite's content-hashed files, ``public, max-age=31536000, immutable``.
- Compression: the build writes ``.br`` and ``.gz`` beside each text file
  (``web/scripts/compress.mjs``); the gateway picks one by ``Accept-Encoding``
  (``br`` before ``gzip``, ``q=0`` honoured) and says ``Vary: Accept-Encoding``. Nothing is
  compressed per request.

``WEB_DIST`` names the folder (default: ``web/dist`` of this checkout; the gateway image
sets ``/app/web``). When it has no build, the shells answer ``503 web.not_built``.

``GET /api/v1/web-config`` (``gateway.routes.web``) tells the apps the deployment's settings
they need (the map tile URL template ``MAP_TILE_URL`` and its attribution); the tile host is
then the one other host the CSP allows, for images only. Without ``MAP_TILE_URL`` the maps
have no base layer and the browser fetches nothing from anywhere else.
"""
from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.errors import error_response
from gateway.settings import Settings

SHELLS = ("m", "console")
ASSET_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
#: 'self' only: no inline script or style, no eval, no other host; photos are previewed
#: from blob: URLs and Vant's icon font is a data: URL.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
       "font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a Leaflet tile URL template: its scheme and host (``{s}`` → ``*``)."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "subdomain-placeholder"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.replace("subdomain-placeholder", "*")
    return f"{parts.scheme}://{host}"


def csp_for(tile_url: str = "") -> str:
    """The pages' CSP: :data:`CSP`, with the map tile host added to ``img-src`` when set."""
    source = tile_source(tile_url)
    return CSP.replace("img-src 'self' blob: data:;", f"img-src 'self' blob: data: {source};") if source else CSP
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}
#: phones and tablets held like phones: the seed's users open the app in a mobile browser or DingTalk
MOBILE_UA = re.compile(r"Mobi|Android|iPhone|iPod|iPad|HarmonyOS|Windows Phone|DingTalk|MicroMessenger",
                       re.IGNORECASE)
#: encodings the build precompresses, in order of preference, with their file suffix
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def default_dist() -> Path:
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def dist_root(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    return Path(env.get("WEB_DIST") or default_dist()).resolve()


def is_mobile(user_agent: str) -> bool:
    return bool(MOBILE_UA.search(user_agent or ""))


def accepted(header: str) -> set[str]:
    """Encodings the client accepts (``q=0`` means no; ``*`` stands for any)."""
    out: set[str] = set()
    for part in (header or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name and q > 0:
            out.add(name.strip())
    if "*" in out:
        out.update(e for e, _ in ENCODINGS)
    return out


def pick_variant(path: Path, accept_encoding: str) -> tuple[Path, str | None]:
    """The precompressed sibling of ``path`` the client accepts, best first, or ``path`` itself."""
    ok = accepted(accept_encoding)
    for encoding, suffix in ENCODINGS:
        candidate = path.with_name(path.name + suffix)
        if encoding in ok and candidate.is_file():
            return candidate, encoding
    return path, None


def _inside(root: Path, relative: str) -> Path | None:
    """``root/relative`` when it is a file inside ``root`` (no ``..``, no symlink escape)."""
    if not relative or "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    if candidate == root or root not in candidate.parents or not candidate.is_file():
        return None
    return candidate


def _content_type(path: Path) -> str:
    if path.suffix == ".webmanifest":
        return "application/manifest+json"
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json", "image/svg+xml"):
        return f"{guessed}; charset=utf-8"
    return guessed


def serve_file(request: Request, path: Path, cache_control: str, html: bool = False, csp: str = CSP) -> Response:
    chosen, encoding = pick_variant(path, request.headers.get("accept-encoding", ""))
    headers = {"Cache-Control": cache_control, "Vary": "Accept-Encoding", **SECURITY_HEADERS}
    if encoding:
        headers["Content-Encoding"] = encoding
    if html:
        headers["Content-Security-Policy"] = csp
    return FileResponse(chosen, media_type=_content_type(path), headers=headers)


def _not_built(root: Path) -> Response:
    return error_response(503, "web.not_built", "the web app is not built: run `make web` (or npm run build in web/)",
                          {"dist": str(root)})


def routes(root: Path | None = None, settings: Settings | None = None) -> list[BaseRoute]:
    base = root or dist_root()
    tile_url = settings.map_tile_url if settings else ""
    csp = csp_for(tile_url)

    async def home(request: Request) -> Response:
        target = "/m/" if is_mobile(request.headers.get("user-agent", "")) else "/console/"
        return RedirectResponse(target, status_code=302, headers={"Vary": "User-Agent", "Cache-Control": NO_CACHE})

    async def asset(request: Request) -> Response:
        found = _inside(base / ASSET_DIR, request.path_params["path"])
        if found is None or found.suffix in (".br", ".gz"):
            return error_response(404, "not_found", "no such asset")
        return serve_file(request, found, IMMUTABLE)

    def shell(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            rest = request.path_params.get("path", "")
            found = _inside(base / name, rest) if rest else None
            if found is not None and found.suffix not in (".br", ".gz") and found.name != "index.html":
                return serve_file(request, found, NO_CACHE)
            index = base / name / "index.html"
            if not index.is_file():
                return _not_built(base)
            return serve_file(request, index, NO_CACHE, html=True, csp=csp)

        endpoint.__name__ = f"web_{name}"
        return endpoint

    async def to_shell(request: Request) -> Response:
        return RedirectResponse(request.url.path + "/", status_code=301)

    out: list[BaseRoute] = [
        Route("/", home, methods=["GET"], include_in_schema=False),
        Route(f"/{ASSET_DIR}/{{path:path}}", asset, methods=["GET"], include_in_schema=False),
    ]
    for name in SHELLS:
        out += [
            Route(f"/{name}", to_shell, methods=["GET"], include_in_schema=False),
            Route(f"/{name}/", shell(name), methods=["GET"], include_in_schema=False),
            Route(f"/{name}/{{path:path}}", shell(name), methods=["GET"], include_in_schema=False),
        ]
    return out
