#!/usr/bin/env python3
"""Drive Verity's web page in headless Chromium over the Chrome DevTools Protocol.

Asks a question, waits for the brief, clicks a citation with a real mouse event, checks
that the side panel shows the cited span highlighted (<mark>) and scrolled into view,
checks the print view, runs "Check again" and waits for the diff, and saves screenshots
(brief.png, citation.png, print.png, recheck.png). Needs the `websockets` package and a Chromium binary.

    python3 scripts/browser_test.py --base http://127.0.0.1:8080 --out target/browser-artifacts
"""

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


class Cdp:
    """A minimal CDP client: numbered commands, results matched by id."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending = {}
        self.console = []  # console messages and uncaught exceptions, for failure reports
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            method = msg.get("method")
            if method == "Runtime.consoleAPICalled":
                args = msg["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            elif method == "Runtime.exceptionThrown":
                d = msg["params"]["exceptionDetails"]
                self.console.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            fut = self.pending.pop(msg.get("id"), None)
            if fut and not fut.done():
                fut.set_result(msg)

    async def send(self, method, **params):
        i = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[i] = fut
        await self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        msg = await asyncio.wait_for(fut, 60)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg.get("result", {})

    async def js(self, expr):
        r = await self.send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JS error in {expr!r}: {r['exceptionDetails']}")
        return r["result"].get("value")

    async def wait_js(self, expr, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = await self.js(expr)
            if v:
                return v
            await asyncio.sleep(0.25)
        state = await self.js("""(() => ({
            flash: (document.querySelector('#flash') || {}).textContent,
            progress: (document.querySelector('#progress') || {}).textContent,
            hash: location.hash }))()""")
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}; page: {state}; console: {self.console[-10:]}")

    async def click(self, selector):
        rect = await self.js(
            f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
                if (!e) return null; e.scrollIntoView({{block: 'center'}});
                const r = e.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2}}; }})()"""
        )
        if not rect:
            raise RuntimeError(f"nothing matches {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=rect["x"], y=rect["y"],
                            button="left", clickCount=1)

    async def screenshot(self, path):
        r = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        print(f"browser-test: saved {path}")


def launch(chromium, profile):
    args = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--mute-audio",
        f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1", "--window-size=1280,900", "about:blank",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if os.path.exists(port_file):
            with open(port_file) as f:
                lines = f.read().split()
            if lines:
                return proc, int(lines[0])
        if proc.poll() is not None:
            raise RuntimeError(f"{chromium} exited with {proc.returncode}")
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("Chromium did not open its DevTools port within 30 s")


def page_ws(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        targets = json.load(r)
    for t in targets:
        if t.get("type") == "page":
            return t["webSocketDebuggerUrl"]
    raise RuntimeError("no page target in Chromium")


async def run(args):
    os.makedirs(args.out, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="verity-chromium-")
    proc, port = launch(args.chromium, profile)
    try:
        async with websockets.connect(page_ws(port), max_size=64 * 1024 * 1024) as ws:
            cdp = Cdp(ws)
            await cdp.send("Page.enable")
            await cdp.send("Runtime.enable")
            await cdp.send("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                           deviceScaleFactor=1, mobile=False)
            await cdp.send("Page.navigate", url=args.base + "/#/ask")
            await cdp.wait_js("document.readyState === 'complete' && !!document.querySelector('#ask-form')"
                              " && document.querySelector('#library-info').textContent.length > 0",
                              30, "the page to load")

            # Ask.
            await cdp.js(f"""(() => {{
                document.querySelector('input[name=mode][value={args.mode}]').checked = true;
                document.querySelector('#ask-input').value = {json.dumps(args.question)}; }})()""")
            await cdp.click("#ask-submit")
            await cdp.wait_js("location.hash.startsWith('#/check/')", 15, "the check to be accepted")
            check_id = (await cdp.js("location.hash")).split("/")[2]
            print(f"browser-test: check {check_id} accepted; waiting for the brief")
            await cdp.wait_js("!document.querySelector('#brief').hidden"
                              " && document.querySelectorAll('#brief a.cite').length > 0",
                              args.timeout, "the brief with citations")
            n_cites = await cdp.js("document.querySelectorAll('#brief a.cite').length")
            title = await cdp.js("document.querySelector('#brief h1').textContent")
            print(f"browser-test: brief “{title}” with {n_cites} citation links")
            await cdp.screenshot(os.path.join(args.out, "brief.png"))

            # Click the first citation in the summary (else anywhere in the brief).
            sel = "#brief section a.cite"
            quote = await cdp.js(f"document.querySelector({json.dumps(sel)}).title")
            await cdp.click(sel)
            await cdp.wait_js("!document.querySelector('#panel').hidden"
                              " && !!document.querySelector('#panel-text mark')"
                              " && document.querySelector('#panel-text mark').textContent.length > 0",
                              20, "the passage panel with a highlighted span")
            await asyncio.sleep(0.3)
            check = await cdp.js("""(() => {
                const m = document.querySelector('#panel-text mark');
                const box = document.querySelector('#panel-text').getBoundingClientRect();
                const r = m.getBoundingClientRect();
                const visible = r.bottom > box.top && r.top < box.bottom && r.height > 0
                    && r.top >= 0 && r.top < window.innerHeight;
                return {text: m.textContent, visible,
                        title: document.querySelector('#panel-title').textContent}; })()""")
            norm = lambda s: " ".join((s or "").split())
            if not check["visible"]:
                raise AssertionError(f"the highlighted passage is not in view: {check}")
            if quote and norm(quote) != norm(check["text"]):
                raise AssertionError(f"highlight {check['text']!r} differs from the cited quote {quote!r}")
            print(f"browser-test: panel “{check['title']}” highlights {check['text'][:80]!r}")
            await cdp.screenshot(os.path.join(args.out, "citation.png"))

            # The print view hides the chrome and the panel.
            await cdp.send("Emulation.setEmulatedMedia", media="print")
            await cdp.js("window.scrollTo(0, 0)")
            hidden = await cdp.js("getComputedStyle(document.querySelector('.top')).display === 'none'"
                                  " && getComputedStyle(document.querySelector('#panel')).display === 'none'")
            if not hidden:
                raise AssertionError("the print view still shows the navigation or the panel")
            await cdp.screenshot(os.path.join(args.out, "print.png"))
            await cdp.send("Emulation.setEmulatedMedia", media="")

            # "Check again" re-runs the check and shows what changed.
            await cdp.click("#panel-close")
            await cdp.click(".brief-actions button:nth-child(2)")
            await cdp.wait_js(f"location.hash.endsWith('/against/{check_id}')", 15, "the re-check to be accepted")
            summary = await cdp.wait_js("!document.querySelector('#diff').hidden"
                                        " && !document.querySelector('#brief').hidden"
                                        " && document.querySelector('#diff').textContent",
                                        args.timeout, "the re-check's diff")
            if "What changed" not in summary or "null" in summary:
                raise AssertionError(f"unexpected diff box: {summary!r}")
            print("browser-test: re-check diff: " + " / ".join(
                x.strip() for x in (await cdp.js(
                    "[...document.querySelectorAll('#diff > div > ul > li')].map(l => l.textContent)")) or []))
            await cdp.js("window.scrollTo(0, 0)")
            await cdp.screenshot(os.path.join(args.out, "recheck.png"))
            cdp.reader.cancel()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser-test: ok")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--base", required=True, help="server URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--out", default="target/browser-artifacts")
    p.add_argument("--question", default="How much will it cost to replace the lead pipes in Port Vellan?")
    p.add_argument("--mode", choices=["question", "claim"], default="question")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--timeout", type=float, default=240, help="seconds to wait for the brief")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except Exception as e:  # noqa: BLE001 - report any failure plainly
        print(f"browser-test: FAILED: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
