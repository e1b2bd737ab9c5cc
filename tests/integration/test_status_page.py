"""The admin status page in headless Chromium (Debian's `chromium`), driven over the DevTools
protocol with a small WebSocket client written here: the page loads and renders a row per
server, a drain click without the token is refused, the operator types the token, clicks drain
on a server (without first pressing "Use token": the typed token is sent) and sees its state
change (confirmed through the API), after a reload the kept token disables another server, and
a screenshot is saved in the build directory (artifacts/status_page.png)."""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from admin_api import AdminClient, admin_port
from harness import OutputCollector, ProxyTestCase, cluster, config, fulcrum_bin, http_listener
from harness import wait_until

TOKEN = "page-t0ken"
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")


class WebSocket:
    """Just enough of RFC 6455 for DevTools: text frames, masking, fragmentation, ping, close."""

    def __init__(self, url, timeout=30):
        parts = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"
                           % (parts.path, parts.hostname, parts.port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise AssertionError("DevTools closed during the WebSocket handshake")
            head += chunk
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].split(" ")[1] == "101", lines[0]
        accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
        assert any(line.lower() == "sec-websocket-accept: " + accept.lower() for line in lines), lines

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise AssertionError("DevTools closed the WebSocket")
            data += chunk
        return data

    def _send(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self._send(0x1, text.encode())

    def receive_text(self):
        message = b""
        while True:
            first, second = self._exact(2)
            opcode, n = first & 0x0F, second & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            payload = self._exact(n)  # Servers never mask.
            if opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                raise AssertionError("DevTools closed the WebSocket")
            elif opcode in (0x0, 0x1):
                message += payload
                if first & 0x80:
                    return message.decode()

    def close(self):
        self.sock.close()


class DevTools:
    """Commands to one page target; events are ignored."""

    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive_text())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError("%s failed: %s" % (method, message["error"]))
                return message["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError("page script failed: %s" % result["exceptionDetails"])
        return result["result"].get("value")

    def click(self, selector):
        """A real mouse click at the middle of the element, as an operator's would be."""
        box = self.evaluate("(() => { const r = document.querySelector(%s)"
                            ".getBoundingClientRect(); return [r.x + r.width / 2, "
                            "r.y + r.height / 2]; })()" % json.dumps(selector))
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)


def artifacts_dir():
    """build/<dir>/artifacts, beside the bin/ directory of the binary under test."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(fulcrum_bin()))),
                        "artifacts")
    os.makedirs(path, exist_ok=True)
    return path


class StatusPage(ProxyTestCase):
    def start_chromium(self):
        binary = shutil.which("chromium")
        self.assertIsNotNone(binary, "Debian's chromium (scripts/install-deps.sh installs it)")
        profile = tempfile.TemporaryDirectory(prefix="fulcrum-chromium-")
        self.addCleanup(profile.cleanup)
        process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--window-size=1500,700",
             "--remote-debugging-port=0", "--user-data-dir=" + profile.name, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)  # Its own group: the renderer processes go with it.

        def stop():
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.addCleanup(stop)
        stderr = OutputCollector(process.stderr, "chromium stderr")
        self._outputs.append(lambda: "--- chromium stderr ---\n" + stderr.text())
        browser_url = stderr.wait_for(
            lambda lines: next((m.group(1) for _, line in lines
                                for m in [DEVTOOLS_LINE.search(line)] if m), None),
            30, "the DevTools line")
        port = urllib.parse.urlparse(browser_url).port
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page")
        return DevTools(page["webSocketDebuggerUrl"])

    def test_page_renders_drains_with_token_and_saves_a_screenshot(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        token_dir = tempfile.TemporaryDirectory(prefix="fulcrum-token-")
        self.addCleanup(token_dir.cleanup)
        token_file = os.path.join(token_dir.name, "admin.token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        proxy = self.start_proxy(config([http_listener("web", "web")],
                                        [cluster("web", [b1, b2])],
                                        admin={"listen": "127.0.0.1:0",
                                               "token_file": token_file}))
        port = admin_port(proxy)
        api = AdminClient(port)
        page = self.start_chromium()
        page.call("Page.enable")
        page.call("Page.navigate", url="http://127.0.0.1:%d/" % port)

        rows_js = ("JSON.stringify([...document.querySelectorAll('tr[data-server]')].map(r => "
                   "[r.dataset.cluster, r.dataset.server, r.querySelector('.admin-state')"
                   ".textContent, r.querySelector('.state').textContent]))")
        rows = wait_until(lambda: (lambda v: v if len(v) == 2 else None)(
            json.loads(page.evaluate(rows_js) or "[]")), 15, message="two rendered server rows")
        self.assertEqual(rows, [["web", b1.address, "enabled", "up"],
                                ["web", b2.address, "enabled", "up"]])
        self.assertEqual(page.evaluate("document.querySelectorAll('.timeline span').length"), 2)

        drain = "tr[data-server='%s'] button[data-action='drain']" % b2.address
        # Without the token the change is refused and the page says so.
        page.click(drain)
        wait_until(lambda: "401" in page.evaluate("document.getElementById('message')"
                                                  ".textContent"), 10,
                   message="the page to show the refusal")
        self.assertEqual(api.server("web", b2.address)["admin_state"], "enabled")

        # The operator types the token and clicks drain straight away, without "Use token":
        # the typed token is what the click sends.
        page.evaluate("document.getElementById('token').focus()")
        page.call("Input.insertText", text=TOKEN)
        page.click(drain)
        state_js = ("document.querySelector(\"tr[data-server='%s'] .admin-state\").textContent"
                    % b2.address)
        wait_until(lambda: page.evaluate(state_js) == "draining", 10,
                   message="the row to show draining")
        self.assertEqual(api.server("web", b2.address)["admin_state"], "draining")
        # The log line may reach the pipe reader a little after the API shows the change.
        changed = "server %s of cluster 'web' enabled -> draining by 127.0.0.1:" % b2.address
        line = proxy.stdout.wait_for(
            lambda lines: next((text for _, text in lines if changed in text), None), 10,
            "the change in the proxy's log")
        self.assertIn("(token)", line)
        self.assertEqual(page.evaluate(
            "document.querySelector(\"tr[data-server='%s'] .state\").className" % b2.address),
            "state warn")

        # The token used is kept for the tab: after a reload, disable works without typing it.
        page.call("Page.reload")
        disable = "tr[data-server='%s'] button[data-action='disable']" % b1.address
        wait_until(lambda: page.evaluate("!!document.querySelector(%s)" % json.dumps(disable)),
                   15, message="the rows after the reload")
        page.click(disable)
        wait_until(lambda: api.server("web", b1.address)["admin_state"] == "disabled", 10,
                   message="b1 disabled through the page")
        wait_until(lambda: page.evaluate(
            "document.querySelector(\"tr[data-server='%s'] .admin-state\").textContent"
            % b1.address) == "disabled", 10, message="the row to show disabled")

        shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        self.assertTrue(shot.startswith(b"\x89PNG\r\n\x1a\n"))
        path = os.path.join(artifacts_dir(), "status_page.png")
        with open(path, "wb") as f:
            f.write(shot)
        self.assertGreater(os.path.getsize(path), 10000)
        page.ws.close()
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
