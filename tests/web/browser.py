"""Debian's chromium driven by Playwright for the web tests, and axe-core inside it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


@asynccontextmanager
async def launch() -> AsyncIterator[Browser]:
    """A headless chromium with a fresh profile (Playwright makes a new user-data-dir)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, url: str, name: str, password: str) -> None:
    await page.goto(f"{url}/login")
    await page.get_by_label("账号").fill(name)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{url}/live")


def ensure_axe() -> Path:
    """axe-core from the npm registry, installed into tests/web/node_modules if missing."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install axe-core (apt-get install npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
                       check=True, capture_output=True, timeout=300)
    return AXE


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    await page.add_script_tag(path=str(ensure_axe()))
    result = await page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(result)["violations"]
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in violations if v["impact"] in SERIOUS]
