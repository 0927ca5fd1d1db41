"""Headless Chromium (Debian's ``chromium``) driven over the DevTools protocol: open a page,
collect every console message, exception and log entry, check its images, take a
screenshot and print it to PDF. Tests skip with a reason where Chromium is absent."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = ("headless Chromium is not installed (apt-get install chromium; .ci/run "
               "installs it)")


@dataclass
class PageCheck:
    """What the browser saw of one page."""

    errors: list[str] = field(default_factory=list)
    images: list[bool] = field(default_factory=list)
    sections: int = 0
    height: int = 0
    screenshot: bytes = b""
    pdf: bytes = b""


class _Session:
    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == event for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == event:
                return
        raise TimeoutError(f"no {event} within {timeout} s")


def _errors(events: list[dict]) -> list[str]:
    found = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning",
                                                                             "assert"):
            found.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            found.append("exception: " + params["exceptionDetails"].get("text", ""))
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error",
                                                                              "warning"):
            entry = params["entry"]
            found.append(f"log: {entry.get('text', '')} {entry.get('url', '')}".strip())
    return found


def check_page(path: Path, *, width: int = 1280, height: int = 900) -> PageCheck:
    """Open ``path`` in headless Chromium (no network needed) and report what it saw."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            port = None
            deadline = time.monotonic() + 60
            while port is None and time.monotonic() < deadline:
                line = proc.stderr.readline()
                match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
                if match:
                    port = int(match.group(1))
                elif not line and proc.poll() is not None:
                    break
            if port is None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
            page = next(t for t in targets if t["type"] == "page")
            session = _Session(page["webSocketDebuggerUrl"])
            for domain in ("Runtime", "Log", "Page"):
                session.call(f"{domain}.enable")
            session.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=False)
            session.call("Page.navigate", url=path.resolve().as_uri())
            session.wait_for("Page.loadEventFired")
            probe = session.call("Runtime.evaluate", returnByValue=True, expression=(
                "JSON.stringify({images: Array.from(document.images).map("
                "i => i.complete && i.naturalWidth > 0), sections: "
                "document.querySelectorAll('section').length, height: "
                "document.documentElement.scrollHeight})"))
            seen = json.loads(probe["result"]["value"])
            shot = session.call("Page.captureScreenshot", format="png")
            pdf = session.call("Page.printToPDF", printBackground=True)
            session.call("Runtime.evaluate", expression="0")  # drain late events
            check = PageCheck(errors=_errors(session.events), images=seen["images"],
                              sections=seen["sections"], height=seen["height"],
                              screenshot=base64.b64decode(shot["data"]),
                              pdf=base64.b64decode(pdf["data"]))
            session.ws.close()
            return check
        finally:
            proc.kill()
            proc.wait(timeout=30)
