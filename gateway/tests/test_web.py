"""Serving the built web app: redirects by device, cache headers, CSP, precompressed variants."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gateway import web
from gateway.app import create_app

from conftest import FakeBridge, make_settings

PHONE = ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0 Mobile Safari/537.36")
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
INDEX = b"<!doctype html><html><head><script type=module src=/assets/m-abc123.js></script></head></html>"
JS = b"console.log('hello');" * 50


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "m").mkdir()
    (tmp_path / "console").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "m" / "index.html").write_bytes(INDEX)
    (tmp_path / "m" / "index.html.gz").write_bytes(gzip.compress(INDEX))
    (tmp_path / "m" / "favicon.svg").write_bytes(b"<svg/>")
    (tmp_path / "console" / "index.html").write_bytes(b"<!doctype html><title>console</title>")
    (tmp_path / "assets" / "m-abc123.js").write_bytes(JS)
    (tmp_path / "assets" / "m-abc123.js.gz").write_bytes(gzip.compress(JS))
    (tmp_path / "assets" / "m-abc123.js.br").write_bytes(b"BROTLI-BYTES")
    (tmp_path.parent / "secret.txt").write_text("outside")
    return tmp_path


@pytest.fixture
def client(dist: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_DIST", str(dist))
    with TestClient(create_app(make_settings(), bridge=FakeBridge()), raise_server_exceptions=False) as c:
        yield c


def test_root_sends_phones_to_the_mobile_app_and_desktops_to_the_console(client):
    r = client.get("/", headers={"User-Agent": PHONE}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/m/"
    assert "User-Agent" in r.headers["vary"]
    r = client.get("/", headers={"User-Agent": DESKTOP}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/console/"
    assert web.is_mobile("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")
    assert not web.is_mobile("")


def test_html_is_no_cache_with_a_strict_csp_and_history_fallback(client):
    for path in ("/m/", "/m/visits/abc", "/m/calendar?x=1"):
        r = client.get(path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/console/anything").text.endswith("<title>console</title>")
    r = client.get("/m", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/m/"


def test_hashed_assets_are_immutable_and_precompressed_by_negotiation(client):
    r = client.get("/assets/m-abc123.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "br" and r.headers["vary"] == "Accept-Encoding"
    assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert r.content == b"BROTLI-BYTES"  # the .br file, not compressed per request (httpx cannot decode br here)
    r = client.get("/assets/m-abc123.js", headers={"Accept-Encoding": "gzip;q=1, br;q=0"})
    assert r.headers["content-encoding"] == "gzip" and r.content == JS  # httpx decoded the .gz file
    r = client.get("/assets/m-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers and r.content == JS


def test_the_html_is_gzipped_when_a_variant_exists(client):
    r = client.get("/m/", headers={"Accept-Encoding": "br, gzip"})
    assert r.headers["content-encoding"] == "gzip" and r.content == INDEX


def test_no_path_escapes_the_build_and_variants_are_not_served_raw(client):
    assert client.get("/assets/../../secret.txt").status_code == 404
    assert client.get("/assets/%2e%2e/%2e%2e/secret.txt").status_code == 404
    assert client.get("/assets/missing.js").status_code == 404
    assert client.get("/assets/m-abc123.js.br").status_code == 404
    r = client.get("/m/..%2f..%2fsecret.txt")
    assert "outside" not in r.text
    assert client.get("/m/favicon.svg").content == b"<svg/>"


def test_api_routes_are_not_shadowed_and_web_routes_stay_out_of_the_document(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert not any(p.startswith(("/m/", "/console", "/assets")) or p == "/" for p in doc["paths"])
    assert client.get("/api/v1/nothing-here").status_code in (401, 404)


def test_a_missing_build_answers_503_with_a_clear_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_DIST", str(tmp_path / "nothing"))
    with TestClient(create_app(make_settings(), bridge=FakeBridge())) as c:
        r = c.get("/m/")
        assert r.status_code == 503 and r.json()["error"]["code"] == "web.not_built"


def test_accept_encoding_parsing():
    assert web.accepted("gzip, br;q=0.5") == {"gzip", "br"}
    assert web.accepted("br;q=0, gzip") == {"gzip"}
    assert web.accepted("*") >= {"br", "gzip"}
    assert web.accepted("") == set()
