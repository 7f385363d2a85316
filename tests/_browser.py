"""Headless Chromium helpers shared by the browser tests (the fixture is in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


@dataclass
class Opened:
    page: Any
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_map(browser: Any, path: Path, *, width: int = 1280, height: int = 900) -> Opened:
    """Open ``path`` with every non-file request aborted (and recorded)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    o = Opened(page)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            o.blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: o.errors.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "net::ERR_FAILED" not in msg.text else None)
    page.on("pageerror", lambda exc: o.errors.append(f"pageerror: {exc}"))
    page.on("dialog", lambda d: (o.dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => window.L && document.querySelector('.leaflet-container')")
    page.wait_for_timeout(600)  # cluster animations and fonts
    return o


