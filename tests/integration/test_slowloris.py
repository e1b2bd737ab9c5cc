"""Slowloris: a client trickling its request head one byte every 300 ms is cut off when
client_header (1 s) has passed since its first byte, however steadily it keeps sending."""

import socket
import threading
import time
import unittest

from harness import ProxyTestCase, cluster, config, connect, http_listener

TRICKLE = b"GET /slow-client HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"p" * 100


class SlowlorisTest(ProxyTestCase):
    def test_trickling_head_is_closed_at_client_header_timeout(self):
        backend = self.start_backend("b1")
        proxy = self.start_proxy(config(
            [http_listener("web", "app", timeouts={"client_header": "1s", "client_idle": "30s"})],
            [cluster("app", [backend])]))
        sock = connect(proxy.port("web"))
        self.addCleanup(sock.close)
        stop = threading.Event()

        def trickle():
            for byte in TRICKLE:  # About 40 s worth: far longer than the test may take.
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return  # The proxy closed the connection.
                if stop.wait(0.3):
                    return

        start = time.monotonic()
        writer = threading.Thread(target=trickle, daemon=True)
        writer.start()
        self.addCleanup(writer.join, 5)
        self.addCleanup(stop.set)
        sock.settimeout(10)
        data = b""
        try:
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass  # Closed while our bytes were in flight: still a close; timing is what matters.
        except socket.timeout:
            self.fail("connection still open after 10 s of trickling")
        elapsed = time.monotonic() - start
        stop.set()
        self.assertGreaterEqual(elapsed, 0.9, "closed before client_header passed")
        self.assertLessEqual(elapsed, 3.0, "slow client kept the connection too long")
        self.assertTrue(data.startswith(b"HTTP/1.1 408 "), data)
        backend.sync()
        self.assertEqual([r for r in backend.requests() if "sync" not in (r["id"] or "")], [])
        self.stop_proxy(proxy)

    def test_idle_keep_alive_is_not_cut_by_client_header(self):
        # The header clock starts with the first byte of a request, not with the connection.
        backend = self.start_backend("b1")
        proxy = self.start_proxy(config(
            [http_listener("web", "app", timeouts={"client_header": "1s", "client_idle": "30s"})],
            [cluster("app", [backend])]))
        sock = connect(proxy.port("web"))
        self.addCleanup(sock.close)
        sock.settimeout(0.3)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:  # Idle for longer than client_header.
            try:
                self.assertNotEqual(sock.recv(1), b"", "idle connection closed")
            except socket.timeout:
                pass
        sock.settimeout(5)
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 200 "))
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
