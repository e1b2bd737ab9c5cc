"""TLS termination through the real binary: HTTPS proxied to plain backends (X-Forwarded-Proto:
https), the certificate chosen by SNI, clients that do not speak TLS closed without harm,
close_notify (so sessions resume; none after a truncated response) and tcp mode terminating
TLS. TLS to the servers: test_tls_upstream.py."""

import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from harness import ProxyTestCase, cluster, config, connect, http_listener, wait_until
from tls_helpers import (cert, curl, listener_tls, make_certs, recv_until_closed, remove_certs,
                         served_names, status_of, tcp_listener, tls_client)


def setUpModule():
    make_certs()


def tearDownModule():
    remove_certs()


class TlsTerminationTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.backend = self.start_backend("b1")
        listener = http_listener("web", "app",
                                 tls=listener_tls("default", "site", "wild"),
                                 timeouts={"client_header": "1s", "client_idle": "5s"})
        self.proxy = self.start_proxy(config([listener], [cluster("app", [self.backend])]))
        self.port = self.proxy.port("web")

    def test_https_request_reaches_a_plain_backend(self):
        result = curl(self.port, "www.site.test", "/hello")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(status_of(result), 200)
        self.assertTrue(result.stdout.startswith(b"backend b1\n"), result.stdout)
        request = wait_until(lambda: self.backend.requests(), 5, message="backend request")[0]
        self.assertEqual(request["path"], "/hello")
        self.assertEqual(request["forwarded_proto"], "https")
        record = self.proxy.wait_access_log(1)[0]
        self.assertEqual(record["status"], 200)

    def test_sni_picks_the_certificate(self):
        self.assertEqual(served_names(self.port, "www.site.test"), ["www.site.test"])
        self.assertEqual(served_names(self.port, "WWW.Site.Test"), ["www.site.test"])
        self.assertEqual(served_names(self.port, "a.example.com"), ["*.example.com"])
        # Wildcards cover one label only; unknown names and no SNI get the first certificate.
        self.assertEqual(served_names(self.port, "a.b.example.com"), ["default.test"])
        self.assertEqual(served_names(self.port, "unknown.test"), ["default.test"])
        self.assertEqual(served_names(self.port, None), ["default.test"])
        # curl checks the name against what it is served, so each of these only passes with the
        # right certificate.
        for name in ("www.site.test", "a.example.com", "default.test"):
            result = curl(self.port, name)
            self.assertEqual((result.returncode, status_of(result)), (0, 200), result.stderr)

    def test_keep_alive_and_bodies_both_ways(self):
        body = os.urandom(300 * 1024)
        with tempfile.NamedTemporaryFile() as upload:
            upload.write(body)
            upload.flush()
            result = subprocess.run(
                ["curl", "-sS", "--max-time", "10", "--resolve",
                 "www.site.test:%d:127.0.0.1" % self.port, "--cacert", cert("ca"),
                 "--data-binary", "@" + upload.name, "-o", "-",
                 "https://www.site.test:%d/echo" % self.port,
                 "-o", "/dev/null", "https://www.site.test:%d/bytes/1000000" % self.port,
                 "-w", "%{num_connects} "],
                capture_output=True, timeout=20)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith(body), "echoed body differs")
        # Both requests on one TLS connection: curl connected once in all.
        self.assertEqual(result.stdout[len(body):], b"1 0 ")
        records = self.proxy.wait_access_log(2)
        self.assertEqual([r["status"] for r in records], [200, 200])
        self.assertGreater(records[1]["bytes"], 1000000)

    def test_clients_not_speaking_tls_are_closed(self):
        # A plain-text request: the handshake fails and the connection closes, nothing proxied.
        with connect(self.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: www.site.test\r\n\r\n")
            reply = recv_until_closed(sock, 5)
        self.assertNotIn(b"backend", reply)
        # Garbage that looks like the start of a TLS record, then silence: closed by the
        # client_header deadline (1s here).
        with connect(self.port) as sock:
            sock.sendall(b"\x16\x03\x01\x02\x00\x01")
            started = time.monotonic()
            recv_until_closed(sock, 5)
            self.assertLess(time.monotonic() - started, 4)
        # Random bytes.
        with connect(self.port) as sock:
            sock.sendall(os.urandom(4096))
            recv_until_closed(sock, 5)
        # A client that goes away mid-handshake.
        with connect(self.port) as sock:
            sock.sendall(b"\x16\x03\x01")
        # Still alive and serving TLS.
        self.assertIsNone(self.proxy.process.poll())
        result = curl(self.port, "www.site.test")
        self.assertEqual((result.returncode, status_of(result)), (0, 200), result.stderr)
        self.assertEqual(len(self.backend.requests()), 1)

    def test_close_notify_then_the_session_resumes(self):
        context = tls_client()
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # Tickets arrive with the handshake.
        with connect(self.port) as raw:
            # Strict about the end: a close without close_notify raises SSLEOFError.
            with context.wrap_socket(raw, server_hostname="www.site.test",
                                     suppress_ragged_eofs=False) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: www.site.test\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                session = tls.session
        self.assertIn(b"backend b1", data)
        with connect(self.port) as raw:
            with context.wrap_socket(raw, server_hostname="www.site.test",
                                     session=session) as tls:
                self.assertTrue(tls.session_reused)

    def tearDown(self):
        self.stop_proxy(self.proxy)


class TruncatingOrigin:
    """One-connection origin that announces 100 body bytes, sends 10 and closes."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)

    def close(self):
        self.listener.close()
        self.thread.join(10)


class TlsTruncationTest(ProxyTestCase):
    def test_truncated_response_ends_without_close_notify(self):
        origin = TruncatingOrigin()
        self.addCleanup(origin.close)
        proxy = self.start_proxy(config(
            [http_listener("web", "app", tls=listener_tls("site"))],
            [cluster("app", ["127.0.0.1:%d" % origin.port], retries=0)]))
        with connect(proxy.port("web")) as raw:
            with tls_client().wrap_socket(raw, server_hostname="www.site.test",
                                          suppress_ragged_eofs=False) as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                data = b""
                # The client must learn the response was cut: no close_notify after it.
                with self.assertRaises(ssl.SSLEOFError):
                    while True:
                        chunk = tls.recv(65536)
                        self.assertTrue(chunk, "clean close_notify after a truncated response")
                        data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)
        self.assertTrue(data.endswith(b"x" * 10), data)
        self.stop_proxy(proxy)


class TlsTcpModeTest(ProxyTestCase):
    def test_tcp_listener_terminates_tls(self):
        backend = self.start_backend("e1", tcp_echo=True)
        proxy = self.start_proxy(config([tcp_listener("echo", "lines",
                                                      tls=listener_tls("localhost"))],
                                        [cluster("lines", [backend])]))
        with connect(proxy.port("echo")) as raw:
            with tls_client().wrap_socket(raw, server_hostname="localhost") as tls:
                rfile = tls.makefile("rb")
                tls.sendall(b"hello\n")
                self.assertEqual(rfile.readline(), b"e1: hello\n")
                tls.sendall(b"not http\x00\xff\n")
                self.assertEqual(rfile.readline(), b"e1: not http\x00\xff\n")
                rfile.close()
        backend.output.wait_for(lambda lines: any('"eof"' in line for _, line in lines), 5,
                                "the server seeing the end of the connection")
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
