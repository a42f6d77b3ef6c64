"""What the web page tests share: a server in a subprocess, Chromium driven by Selenium, screenshots."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import anyio
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from conftest import cli_env, make_settings
from pba_tunnel import startup
from process_support import ServerProcess, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
WAIT_SECONDS = 15  # an upper bound for things that take milliseconds; never a timing assertion
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def require_chromium() -> None:
    """Skip (fail under CI) when Debian's chromium and chromium-driver are not installed."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"web page tests need Debian's chromium and chromium-driver ({', '.join(missing)} missing)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run installs them")
        pytest.skip(message + ": apt-get install chromium chromium-driver")


class Browser:
    """One Chromium with a fresh profile, driven by Selenium (never downloads anything: the driver is given)."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="pba-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={self.profile}"]:
            options.add_argument(flag)
        self.driver: WebDriver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_page_load_timeout(WAIT_SECONDS * 2)

    def wait(self) -> WebDriverWait[WebDriver]:
        """A wait bounded by WAIT_SECONDS."""
        return WebDriverWait(self.driver, WAIT_SECONDS)

    def quit(self) -> None:
        """Close the browser and drop its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


class WebServer(ServerProcess):
    """``pba-tunnel serve --transport http`` (or ``ui``) on 127.0.0.1 in a subprocess."""

    def __init__(self, home: Path, *args: str, command: str = "serve", env: dict[str, str] | None = None) -> None:
        """Start it; ``command`` is ``serve`` (HTTP on 127.0.0.1) or ``ui`` (which opens $BROWSER)."""
        self.home = home
        self.port = free_port()
        options = ["--transport", "http", "--host", "127.0.0.1"] if command == "serve" else []
        argv = [sys.executable, "-m", "pba_tunnel", command, *options, "--port", str(self.port), *args]
        env = cli_env(home, PBA_TUNNEL_SEED="0", PBA_TUNNEL_LOG_LEVEL="warning", **(env or {}))
        base = f"http://127.0.0.1:{self.port}"
        super().__init__(
            argv, env, home / f"web-{self.port}.log", base, WAIT_SECONDS * 4
        )  # a loaded machine starts slowly


def prepare_store(home: Path, versions: dict[str, list[str]], *, seed: bool = True) -> None:
    """A store under ``home`` (seeded with the starter library unless not), plus each template with its versions."""

    async def fill() -> None:
        service = await startup.open_service(make_settings(home, seed=seed))
        try:
            for name, sources in versions.items():
                await service.create(sources[0], name=name)
                for source in sources[1:]:
                    await service.update(name, source)
        finally:
            await service.close()

    anyio.run(fill)


def browser_recorder(folder: Path) -> tuple[str, Path]:
    """A ``BROWSER`` command (as Python's webbrowser runs it) that writes the URL it is given to a file."""
    script = folder / "record_url.py"
    record = folder / "opened-url.txt"
    script.write_text(f"import sys, pathlib\npathlib.Path({str(record)!r}).write_text(sys.argv[1])\n")
    return f"{sys.executable} {script} %s", record


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save what the browser shows as ``tests/web/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
