"""Browser tests: Playwright (Python) drives Debian's Chromium against the real stack.

The `stack` fixture (tests/fixtures.py) starts the five services and the gateway, which
serves the built web app (web/dist, built here first by scripts/build-web.sh when web/
changed). Every test gets phones — browser contexts with a 360×640 Android profile, the
geolocation permission and a position, the Shanghai time zone and zh-CN — and each page
object saves a screenshot of its screen under tests/browser/screenshots/ (ignored by git);
a failing test also saves every open page there.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import TEST_OPERATOR_SECRET
from tests.support.tenants import Tenant, make_tenant

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
#: this machine's closed network refuses background connections: none are attempted
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
                 "--disable-extensions", "--metrics-recording-only", "--mute-audio", "--lang=zh-CN"]
PHONE = "Galaxy S5"  # 360×640, Android, touch
#: the customer's place in the tests (People's Square, Shanghai)
HERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 12}
#: a shared 2-core machine: the photo work of a check-in alone may take several seconds
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    subprocess.run([str(ROOT / "scripts" / "build-web.sh")], check=True, cwd=ROOT)
    dist = ROOT / "web" / "dist"
    assert (dist / "m" / "index.html").is_file(), "the web app did not build"
    return dist


@pytest.fixture(scope="session")
def base_url(stack, web_dist) -> str:
    for old in SHOTS.glob("FAILED-*.png"):  # pictures of failures of an earlier run
        old.unlink()
    return stack.url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (scripts/install-system-deps.sh)")
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def tenant(http) -> Tenant:
    return make_tenant(http, TEST_OPERATOR_SECRET)


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash.setdefault(FAILED, False)
        if report.failed:
            item.stash[FAILED] = True
    return report


def shot_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::")[-1])[:80]


def context_factory(request, browser: Browser, playwright: Playwright, base_url: str,
                    defaults: Callable[..., dict]) -> Iterator[Callable[..., BrowserContext]]:
    """Browser contexts made by ``defaults(**kwargs)``; every one is closed after the test, with
    a screenshot of each of its pages when the test failed, and the test fails on any Content-
    Security-Policy refusal or uncaught page error."""
    made: list[BrowserContext] = []
    refused: list[str] = []  # what the Content-Security-Policy blocked, and uncaught page errors

    def make(**kwargs) -> BrowserContext:
        ctx = browser.new_context(base_url=base_url, **defaults(**kwargs))
        ctx.set_default_timeout(15_000)
        ctx.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        ctx.on("weberror", lambda e: refused.append(f"page error: {e.error}"))
        made.append(ctx)
        return ctx

    yield make
    failed = request.node.stash.get(FAILED, False)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for i, ctx in enumerate(made):
        if failed:
            for j, page in enumerate(ctx.pages):
                try:
                    page.screenshot(path=str(SHOTS / f"FAILED-{shot_name(request.node.nodeid)}-{i}-{j}.png"),
                                    full_page=True)
                except Exception:  # noqa: BLE001 - a page that crashed has no picture
                    pass
        ctx.close()
    assert not refused, "the app broke its own rules in the browser:\n" + "\n".join(refused)


@pytest.fixture
def phones(request, browser: Browser, playwright: Playwright, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """A factory of phones (browser contexts with a 360×640 Android profile, the geolocation
    permission and a position, the Shanghai time zone)."""
    def phone(geolocation: dict | None = None, locale: str = "zh-CN") -> dict:
        return {**playwright.devices[PHONE], "locale": locale, "timezone_id": "Asia/Shanghai",
                "geolocation": geolocation or HERE, "permissions": ["geolocation"]}

    yield from context_factory(request, browser, playwright, base_url, phone)


@pytest.fixture
def phone(phones) -> Page:
    """One phone with one page."""
    return phones().new_page()


def jpeg_photo(size=(1280, 960), exif_time: str | None = None) -> bytes:
    """A real JPEG, as a phone camera would give (with an EXIF time when asked)."""
    img = Image.new("RGB", size, (40, 120, 200))
    img.paste((230, 230, 230), (size[0] // 4, size[1] // 3, size[0] * 3 // 4, size[1] * 2 // 3))
    ex = Image.Exif()
    if exif_time:
        ex.get_ifd(0x8769)[0x9003] = exif_time
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=ex, quality=88)
    return buf.getvalue()
