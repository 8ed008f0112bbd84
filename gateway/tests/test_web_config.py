"""The deployment settings the web apps read (``GET /api/v1/web-config``): the map tile URL
template, and the CSP that then admits that one tile host for images (and nothing else)."""
from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway import web
from gateway.app import create_app
from gateway.settings import ConfigError, Settings

from conftest import AUTH_HEADERS, FakeBridge, make_settings

TILES = "https://{s}.tiles.example.cn/{z}/{x}/{y}.png"


def _client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings) -> TestClient:
    (tmp_path / "console").mkdir()
    (tmp_path / "console" / "index.html").write_bytes(b"<!doctype html><title>console</title>")
    monkeypatch.setenv("WEB_DIST", str(tmp_path))
    return TestClient(create_app(make_settings(**settings), bridge=FakeBridge()))


def test_without_a_tile_url_the_maps_have_no_base_layer_and_the_csp_no_other_host(tmp_path, monkeypatch):
    with _client(tmp_path, monkeypatch) as c:
        assert c.get("/api/v1/web-config").status_code == 401  # signed-in people only
        r = c.get("/api/v1/web-config", headers=AUTH_HEADERS)
        assert r.status_code == 200 and r.json() == {"map": {"tile_url": None, "attribution": ""}}
        csp = c.get("/console/").headers["content-security-policy"]
        assert csp == web.CSP and "img-src 'self' blob: data:;" in csp


def test_a_tile_url_is_handed_to_the_apps_and_its_host_admitted_for_images_only(tmp_path, monkeypatch):
    with _client(tmp_path, monkeypatch, map_tile_url=TILES, map_tile_attribution="© 测试地图") as c:
        r = c.get("/api/v1/web-config", headers=AUTH_HEADERS)
        assert r.json() == {"map": {"tile_url": TILES, "attribution": "© 测试地图"}}
        csp = c.get("/console/").headers["content-security-policy"]
        assert "img-src 'self' blob: data: https://*.tiles.example.cn;" in csp
        assert "connect-src 'self';" in csp and "script-src 'self';" in csp
        doc = c.get("/api/v1/openapi.json").json()
        assert "/api/v1/web-config" in doc["paths"]


def test_tile_sources():
    assert web.tile_source("https://tiles.example.cn:8443/{z}/{x}/{y}.png") == "https://tiles.example.cn:8443"
    assert web.tile_source("http://{s}.t.example/{z}/{x}/{y}") == "http://*.t.example"
    assert web.tile_source("") is None


@pytest.mark.parametrize("bad", ["ftp://tiles.example.cn/{z}/{x}/{y}", "https://tiles.example.cn/tile.png",
                                 "tiles.example.cn/{z}/{x}/{y}", "https://tiles.example.cn/{z}/{x}/{y} x"])
def test_a_malformed_tile_url_fails_the_start(bad):
    env = {"CRM_CONTEXT_KEY": "k" * 32, "OPERATOR_SECRET": "o" * 32, "AMQP_URI": "amqp://crm:x@127.0.0.1:5672/"}
    with pytest.raises(ConfigError, match="MAP_TILE_URL"):
        Settings.from_env({**env, "MAP_TILE_URL": bad})
    assert Settings.from_env({**env, "MAP_TILE_URL": TILES}).map_tile_url == TILES
