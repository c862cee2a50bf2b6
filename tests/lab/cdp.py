#!/usr/bin/python3
"""cdp.py - drive a headless Chromium over the Chrome DevTools Protocol.

The lab's browser tests (test-95-console-browser.sh) start Chromium with
--remote-debugging-port on 127.0.0.1 inside the lab's client namespace and
run this there, one command a call, against the browser's first page:

  cdp.py [--port P] open URL              load URL, wait until loaded
  cdp.py [--port P] eval JS               print JS's value as JSON
  cdp.py [--port P] wait [-t S] JS        wait until JS is truthy; print it
  cdp.py [--port P] watch [-t S] VALUE UNTIL
                                          every distinct value of VALUE
                                          (JSON lines) until UNTIL is truthy
  cdp.py [--port P] click SELECTOR        a mouse click on the element
  cdp.py [--port P] type SELECTOR TEXT    focus the element, type TEXT
  cdp.py [--port P] shot FILE             a PNG screenshot of the page
  cdp.py [--port P] cookies               the page's cookies (JSON)
  cdp.py [--port P] ready [-t S]          wait until the browser answers

JS is evaluated in the page (promises awaited). Every wait has a deadline
(-t, default 30 s) and fails with exit 1 and the last value seen. Uses
Debian's python3-websocket.
"""

import argparse
import base64
import json
import sys
import time
import urllib.request

import websocket

POLL_S = 0.1


class CdpError(Exception):
    pass


class Page:
    """One DevTools connection to the browser's first page."""

    def __init__(self, port, timeout=30):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
            targets = json.load(r)
        pages = [t for t in targets if t.get("type") == "page"]
        if not pages:
            raise CdpError("the browser has no page open")
        # Chromium refuses DevTools websockets with an Origin it was not told about.
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self.next_id = 0

    def close(self):
        self.ws.close()

    def call(self, method, **params):
        """Send a command; return its result (events meanwhile are dropped)."""
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") != mid:
                continue
            if "error" in msg:
                raise CdpError("%s: %s" % (method, msg["error"].get("message")))
            return msg.get("result", {})

    def eval(self, js):
        """JS's value in the page (a promise is awaited)."""
        r = self.call(
            "Runtime.evaluate", expression=js, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            what = d.get("exception", {}).get("description") or d.get("text")
            raise CdpError("JavaScript: %s" % what)
        return r.get("result", {}).get("value")

    def wait(self, js, timeout):
        """JS's first truthy value; CdpError past the deadline."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.eval(js)
            except CdpError as e:
                last = str(e)
            else:
                if last:
                    return last
            if time.monotonic() >= deadline:
                raise CdpError("timed out after %gs waiting for %s (last: %r)" % (timeout, js, last))
            time.sleep(POLL_S)

    def center(self, selector):
        """The viewport coordinates of the element's centre, scrolled into view."""
        js = """(() => {
            const e = document.querySelector(%s);
            if (!e) return null;
            e.scrollIntoView({block: "center", inline: "center"});
            const r = e.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) return null;
            return [r.left + r.width / 2, r.top + r.height / 2];
        })()""" % json.dumps(selector)
        xy = self.eval(js)
        if not xy:
            raise CdpError("no visible element %s" % selector)
        return xy

    def click(self, selector):
        """A left click where a person would click: the element must be on top there."""
        x, y = self.center(selector)
        on_top = self.eval(
            "(() => { const e = document.querySelector(%s), t = document.elementFromPoint(%f, %f);"
            " return !!t && (t === e || e.contains(t)); })()" % (json.dumps(selector), x, y)
        )
        if not on_top:
            raise CdpError("%s is covered by another element" % selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def type(self, selector, text):
        self.click(selector)
        self.eval("document.querySelector(%s).select()" % json.dumps(selector))
        self.call("Input.insertText", text=text)


def cmd_ready(args):
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/version" % args.port, timeout=2) as r:
                print(json.load(r).get("Browser", "?"))
            return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise CdpError("the browser did not answer on port %d: %s" % (args.port, e))
            time.sleep(POLL_S)


def cmd_open(page, args):
    page.call("Page.navigate", url=args.url)
    page.wait(
        "document.readyState === 'complete' && location.href === %s" % json.dumps(args.url),
        args.timeout,
    )


def cmd_watch(page, args):
    """Each new value of VALUE, one JSON line as seen, until UNTIL holds."""
    deadline = time.monotonic() + args.timeout
    last = object()
    while True:
        v = page.eval(args.value)
        if v != last:
            print(json.dumps(v), flush=True)
            last = v
        if page.eval(args.until):
            return
        if time.monotonic() >= deadline:
            raise CdpError("timed out after %gs waiting for %s" % (args.timeout, args.until))
        time.sleep(POLL_S)


def cmd_shot(page, args):
    png = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    with open(args.file, "wb") as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser(description="drive a headless Chromium over DevTools")
    ap.add_argument("--port", type=int, default=9222)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ready")
    p.add_argument("-t", "--timeout", type=float, default=30)
    p = sub.add_parser("open")
    p.add_argument("-t", "--timeout", type=float, default=30)
    p.add_argument("url")
    p = sub.add_parser("eval")
    p.add_argument("js")
    p = sub.add_parser("wait")
    p.add_argument("-t", "--timeout", type=float, default=30)
    p.add_argument("js")
    p = sub.add_parser("watch")
    p.add_argument("-t", "--timeout", type=float, default=30)
    p.add_argument("value")
    p.add_argument("until")
    p = sub.add_parser("click")
    p.add_argument("selector")
    p = sub.add_parser("type")
    p.add_argument("selector")
    p.add_argument("text")
    p = sub.add_parser("shot")
    p.add_argument("file")
    sub.add_parser("cookies")
    args = ap.parse_args()

    try:
        if args.cmd == "ready":
            cmd_ready(args)
            return 0
        page = Page(args.port)
        try:
            if args.cmd == "open":
                cmd_open(page, args)
            elif args.cmd == "eval":
                print(json.dumps(page.eval(args.js)))
            elif args.cmd == "wait":
                print(json.dumps(page.wait(args.js, args.timeout)))
            elif args.cmd == "watch":
                cmd_watch(page, args)
            elif args.cmd == "click":
                page.click(args.selector)
            elif args.cmd == "type":
                page.type(args.selector, args.text)
            elif args.cmd == "shot":
                cmd_shot(page, args)
            elif args.cmd == "cookies":
                print(json.dumps(page.call("Network.getCookies").get("cookies", [])))
        finally:
            page.close()
    except (CdpError, OSError, websocket.WebSocketException) as e:
        print("cdp.py %s: %s" % (args.cmd, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
