"""WebSocket through the proxy: the Upgrade is forwarded, the 101 relayed, and frames in both
directions are tunnelled byte for byte until the close handshake."""

import base64
import hashlib
import os
import time
import unittest

from backend import WS_GUID, ws_frame
from harness import ProxyTestCase, cluster, config, connect, http_listener, read_response


def read_frame(rfile):
    first, second = rfile.read(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(rfile.read(2), "big")
    elif length == 127:
        length = int.from_bytes(rfile.read(8), "big")
    assert not second & 0x80, "server frames are not masked"
    return first & 0x0F, rfile.read(length)


class WebSocketTest(ProxyTestCase):
    def test_echo_through_the_proxy(self):
        backend = self.start_backend("ws")
        proxy = self.start_proxy(config([http_listener("web", "app")],
                                        [cluster("app", [backend])]))
        sock = connect(proxy.port("web"))
        self.addCleanup(sock.close)
        rfile = sock.makefile("rb")
        self.addCleanup(rfile.close)
        key = base64.b64encode(os.urandom(16))
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
        response = read_response(rfile)
        self.assertEqual(response.status, 101)
        self.assertEqual(response.header("Upgrade").lower(), "websocket")
        self.assertEqual(response.header("Sec-WebSocket-Accept"),
                         base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode())

        messages = [(0x1, b"hello"), (0x2, os.urandom(300)), (0x2, os.urandom(70000)),
                    (0x1, "naïve ✓".encode())]
        # The first two in one write, as a client may send them.
        sock.sendall(b"".join(ws_frame(op, data, os.urandom(4)) for op, data in messages[:2]))
        for op, data in messages[:2]:
            self.assertEqual(read_frame(rfile), (op, data))
        for op, data in messages[2:]:
            sock.sendall(ws_frame(op, data, os.urandom(4)))
            self.assertEqual(read_frame(rfile), (op, data))

        close = (1000).to_bytes(2, "big") + b"bye"
        sock.sendall(ws_frame(0x8, close, os.urandom(4)))
        self.assertEqual(read_frame(rfile), (0x8, close))
        self.assertEqual(rfile.read(), b"", "the tunnel closes after the server closes")
        rfile.close()
        sock.close()
        # Both sides closed: the tunnel is over, so the drain has nothing to wait for.
        start = time.monotonic()
        self.stop_proxy(proxy)
        self.assertLess(time.monotonic() - start, 3.0, "a finished tunnel held up shutdown")

    def test_open_tunnel_is_cut_at_drain_timeout(self):
        backend = self.start_backend("ws")
        proxy = self.start_proxy(config([http_listener("web", "app")],
                                        [cluster("app", [backend])], drain_timeout="1s"))
        sock = connect(proxy.port("web"))
        self.addCleanup(sock.close)
        rfile = sock.makefile("rb")
        self.addCleanup(rfile.close)
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        self.assertEqual(read_response(rfile).status, 101)
        sock.sendall(ws_frame(0x1, b"ping", os.urandom(4)))
        self.assertEqual(read_frame(rfile), (0x1, b"ping"))
        # SIGTERM with the tunnel open: the proxy waits drain_timeout, then closes it and exits 0.
        start = time.monotonic()
        self.stop_proxy(proxy)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.9, "an open tunnel was not given drain_timeout")
        self.assertLess(elapsed, 4.0)
        self.assertIn("drain timeout: closing 1 connections still open", proxy.stdout.text())
        self.assertEqual(rfile.read(), b"")


if __name__ == "__main__":
    unittest.main()
