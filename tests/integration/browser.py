"""Headless Chromium (Debian's `chromium`) for the integration tests, driven over the DevTools
protocol with a small WebSocket client written here (the standard library has none): used by
test_status_page.py and test_demo.py."""

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
import urllib.parse
import urllib.request

from harness import OutputCollector, fulcrum_bin

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


def start_chromium(test, window="1500,700"):
    """Headless Chromium with a `window`-sized viewport, stopped at the test's cleanup; returns
    DevTools on its blank page. Chromium's stderr is added to the test's failure output."""
    binary = shutil.which("chromium")
    test.assertIsNotNone(binary, "Debian's chromium (scripts/install-deps.sh installs it)")
    profile = tempfile.TemporaryDirectory(prefix="fulcrum-chromium-")
    test.addCleanup(profile.cleanup)
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--window-size=" + window,
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
    test.addCleanup(stop)
    stderr = OutputCollector(process.stderr, "chromium stderr")
    if hasattr(test, "_outputs"):
        test._outputs.append(lambda: "--- chromium stderr ---\n" + stderr.text())
    browser_url = stderr.wait_for(
        lambda lines: next((m.group(1) for _, line in lines
                            for m in [DEVTOOLS_LINE.search(line)] if m), None),
        30, "the DevTools line")
    port = urllib.parse.urlparse(browser_url).port
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
        targets = json.load(r)
    page = next(t for t in targets if t["type"] == "page")
    return DevTools(page["webSocketDebuggerUrl"])
