"""The built web app: the mobile entry's JS + CSS budget (300 KB gzipped), the typed API
client generated from the gateway's current routes, and how the gateway serves the build."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import httpx

from tests.browser.conftest import ROOT

BUDGET = 300 * 1024
PHONE_UA = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"


def reachable(manifest: dict, entry: str) -> set[str]:
    """Every JS and CSS file the entry can load: its static and dynamic imports, transitively."""
    files: set[str] = set()
    todo, seen = [entry], set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        chunk = manifest[key]
        files.add(chunk["file"])
        files.update(chunk.get("css", []))
        todo += chunk.get("imports", []) + chunk.get("dynamicImports", [])
    return {f for f in files if f.endswith((".js", ".css"))}


def test_the_mobile_entry_js_and_css_stay_within_300_kb_gzipped(web_dist: Path) -> None:
    manifest = json.loads((web_dist / ".vite" / "manifest.json").read_text())
    files = reachable(manifest, "m/index.html")
    assert any(f.endswith(".css") for f in files) and len(files) > 5
    sizes = {f: (web_dist / f"{f}.gz").stat().st_size for f in files}  # as served (precompressed)
    total = sum(sizes.values())
    print(f"\nmobile entry: {len(files)} files, {total / 1024:.1f} KB gzipped "
          f"(raw {sum((web_dist / f).stat().st_size for f in files) / 1024:.1f} KB), budget {BUDGET // 1024} KB")
    assert total <= BUDGET, f"{total / 1024:.1f} KB gzipped > {BUDGET // 1024} KB: " + ", ".join(
        f"{f} {s / 1024:.1f}" for f, s in sorted(sizes.items(), key=lambda x: -x[1])[:8])


def test_the_committed_api_client_matches_a_fresh_generation(web_dist: Path) -> None:
    r = subprocess.run(["node", "scripts/gen-api.mjs", "--check"], cwd=ROOT / "web", capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout


def test_the_gateway_serves_the_build_by_device_with_cache_headers_csp_and_brotli(base_url: str,
                                                                                   web_dist: Path) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        r = c.get("/", headers={"User-Agent": PHONE_UA})
        assert r.status_code == 302 and r.headers["location"] == "/m/"
        assert c.get("/", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}).headers["location"] == "/console/"
        html = c.get("/m/", headers={"Accept-Encoding": "gzip"})
        assert html.status_code == 200 and html.headers["cache-control"] == "no-cache"
        assert html.headers["content-encoding"] == "gzip"
        assert "script-src 'self';" in html.headers["content-security-policy"]
        assert "<script" not in re.sub(r'<script type="module" crossorigin src="/assets/[^"]+"></script>', "",
                                       html.text), "an inline script would be refused by the CSP"
        asset = re.search(r'src="(/assets/[^"]+\.js)"', html.text).group(1)
        js = c.get(asset, headers={"Accept-Encoding": "br, gzip"})
        assert js.status_code == 200 and js.headers["content-encoding"] == "br"
        assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert js.content == (web_dist / f"{asset[1:]}.br").read_bytes()
        assert c.get("/console/").status_code == 200
        assert c.get("/m/visits/some-id").text == html.text  # the app's own routes get the shell


def test_a_desktop_lands_on_the_console_sign_in(browser, base_url: str) -> None:
    from playwright.sync_api import expect

    ctx = browser.new_context(base_url=base_url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/console/login$"))
        expect(page.get_by_role("heading", name="管理后台登录")).to_be_visible()
        page.get_by_role("link", name=re.compile("手机端")).click()
        expect(page).to_have_url(re.compile(r"/m/login"))
    finally:
        ctx.close()
