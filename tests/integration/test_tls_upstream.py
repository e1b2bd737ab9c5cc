"""TLS to the servers through the real binary: verified connections (pooled and reused), a
failed verification, a hostname mismatch or a plain server answered with 502 and a log line,
http health checks and agent queries over TLS, and tunnels (WebSocket, tcp mode with half-close) over TLS."""

import base64
import os
import socket
import ssl
import unittest

from backend import ws_frame
from harness import (ProxyTestCase, cluster, config, connect, get, http_listener, read_response,
                     wait_until)
from test_agents import Agent
from test_websocket import read_frame
from tls_helpers import (cert, key, listener_tls, make_certs, recv_until_closed, remove_certs,
                         tcp_listener, tls_client)


def server_context(stem):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert(stem), key(stem))
    return context


def setUpModule():
    make_certs()


def tearDownModule():
    remove_certs()


class UpstreamTlsTest(ProxyTestCase):
    def start(self, backend_stem, **cluster_tls):
        backend = self.start_backend("s1", tls=(cert(backend_stem), key(backend_stem)))
        tls = {"ca_file": cert("ca")}
        tls.update(cluster_tls)
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", ["127.0.0.1:%d" % backend.port], retries=0, tls=tls,
                     timeouts={"connect": "2s"})]))
        return backend, proxy

    def get(self, proxy, path="/"):
        with connect(proxy.port("web")) as sock:
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
                         % path.encode())
            return recv_until_closed(sock, 10)

    def test_verified_tls_to_the_server_with_pooled_connections(self):
        backend, proxy = self.start("localhost")
        with connect(proxy.port("web")) as sock:
            for i in range(3):
                sock.sendall(b"GET /n%d HTTP/1.1\r\nHost: app\r\n\r\n" % i)
                head = b""
                while b"backend s1\n" not in head:
                    chunk = sock.recv(65536)
                    self.assertTrue(chunk, "closed early: %r" % head)
                    head += chunk
                self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        requests = wait_until(lambda: len(backend.requests()) >= 3 and backend.requests(), 5,
                              message="3 backend requests")
        self.assertEqual([r["path"] for r in requests], ["/n0", "/n1", "/n2"])
        self.assertEqual(requests[0]["forwarded_proto"], "http")
        # One TLS connection carried all three (the pool keeps TLS connections too).
        self.assertEqual(len(backend.events("conn")), 1)
        self.stop_proxy(proxy)

    def test_verification_failure_is_a_502_and_a_log_line(self):
        backend, proxy = self.start("rogue")  # Signed by another CA.
        reply = self.get(proxy)
        self.assertTrue(reply.startswith(b"HTTP/1.1 502"), reply)
        proxy.stdout.wait_for(
            lambda lines: any("TLS handshake with server 127.0.0.1:%d failed: certificate verify "
                              "failed" % backend.port in line for _, line in lines),
            5, "the handshake failure log line")
        self.assertEqual(backend.requests(), [])
        self.stop_proxy(proxy)

    def test_hostname_mismatch_is_a_502(self):
        _, proxy = self.start("localhost", sni="other.test")
        self.assertTrue(self.get(proxy).startswith(b"HTTP/1.1 502"))
        proxy.stdout.wait_for(
            lambda lines: any("certificate verify failed: hostname mismatch" in line
                              for _, line in lines), 5, "hostname mismatch log line")
        self.stop_proxy(proxy)

    def test_a_plain_server_is_a_502(self):
        plain = self.start_backend("p1")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [plain], retries=0, tls={"ca_file": cert("ca")})]))
        self.assertTrue(self.get(proxy).startswith(b"HTTP/1.1 502"))
        self.assertEqual(plain.requests(), [])  # Not a byte of HTTP in plain text.
        self.stop_proxy(proxy)


class TlsHealthCheckTest(ProxyTestCase):
    def test_http_checks_reach_servers_over_verified_tls(self):
        good = self.start_backend("good", tls=(cert("localhost"), key("localhost")))
        rogue = self.start_backend("rogue", tls=(cert("rogue"), key("rogue")))
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", ["127.0.0.1:%d" % good.port, "127.0.0.1:%d" % rogue.port],
                     panic_threshold=0, tls={"ca_file": cert("ca")},
                     health_check={"type": "http", "path": "/health", "interval": "200ms",
                                   "fast_interval": "100ms", "timeout": "1s",
                                   "initial_state": "down", "rise": 1, "fall": 1})]))
        proxy.stdout.wait_for(
            lambda lines: any("server 127.0.0.1:%d is up by health checks" % good.port in line
                              for _, line in lines), 10, "the good server up by checks")
        # The backend records a check after answering it, so the proxy may log first: wait.
        wait_until(lambda: good.events("health"), 5, "checks reaching the server over TLS")
        # The other server's certificate fails verification: its checks fail, it stays down,
        # and no request reaches it.
        for _ in range(4):
            with connect(proxy.port("web")) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
                self.assertIn(b"backend good", recv_until_closed(sock, 10))
        self.assertEqual(rogue.requests(), [])
        self.assertNotIn("is up by health checks", "\n".join(
            line for _, line in proxy.stdout.lines() if str(rogue.port) in line))
        self.stop_proxy(proxy)


class TlsTunnelTest(ProxyTestCase):
    def test_agents_answer_over_verified_tls(self):
        """`agent: {tls: true}` queries agents with the cluster's TLS settings: an agent with a
        certificate from the cluster's CA is heard; one with a rogue certificate fails the
        handshake, so with require_response its server is out."""
        good = self.start_backend("good", tls=(cert("localhost"), key("localhost")))
        other = self.start_backend("other", tls=(cert("localhost"), key("localhost")))
        trusted = Agent("0\n", tls_context=server_context("localhost"))
        rogue = Agent("0\n", tls_context=server_context("rogue"))
        self.addCleanup(trusted.close)
        self.addCleanup(rogue.close)
        app = cluster("app", [], tls={"ca_file": cert("ca")}, panic_threshold=0,
                      agent={"tls": True, "require_response": True, "interval": "100ms",
                             "timeout": "500ms"})
        app["servers"] = [{"address": "127.0.0.1:%d" % good.port, "agent_port": trusted.port},
                          {"address": "127.0.0.1:%d" % other.port, "agent_port": rogue.port}]
        proxy = self.start_proxy(config([http_listener("web", "app")], [app]))
        proxy.stdout.wait_for(
            lambda lines: any("agent of server 127.0.0.1:%d does not answer: TLS handshake failed"
                              % other.port in line for _, line in lines), 10, "rogue agent")
        wait_until(lambda: trusted.count() >= 2, 10, message="TLS queries of the trusted agent")
        for _ in range(10):
            response = get(proxy.port("web"), "/")
            self.assertEqual(response.header("X-Backend"), "good", response)
        self.stop_proxy(proxy)

    def test_websocket_over_tls_on_both_sides(self):
        backend = self.start_backend("ws", tls=(cert("localhost"), key("localhost")))
        proxy = self.start_proxy(config(
            [http_listener("web", "app", tls=listener_tls("site"))],
            [cluster("app", ["127.0.0.1:%d" % backend.port], tls={"ca_file": cert("ca")})]))
        raw = connect(proxy.port("web"))
        self.addCleanup(raw.close)
        sock = tls_client().wrap_socket(raw, server_hostname="www.site.test",
                                        suppress_ragged_eofs=False)
        rfile = sock.makefile("rb")
        key_text = base64.b64encode(os.urandom(16))
        sock.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: " + key_text + b"\r\n\r\n")
        self.assertEqual(read_response(rfile).status, 101)
        for op, data in [(0x1, b"hello"), (0x2, os.urandom(70000))]:
            sock.sendall(ws_frame(op, data, os.urandom(4)))
            self.assertEqual(read_frame(rfile), (op, data))
        close = (1000).to_bytes(2, "big") + b"bye"
        sock.sendall(ws_frame(0x8, close, os.urandom(4)))
        self.assertEqual(read_frame(rfile), (0x8, close))
        # The server closed (without close_notify, as Python does): the client's side of the
        # tunnel still ends with close_notify, or this read raises SSLEOFError.
        self.assertEqual(rfile.read(), b"")
        rfile.close()
        sock.close()
        self.stop_proxy(proxy)

    def test_tcp_mode_to_tls_servers_with_half_close(self):
        backend = self.start_backend("e1", tcp_echo=True,
                                     tls=(cert("localhost"), key("localhost")))
        proxy = self.start_proxy(config(
            [tcp_listener("echo", "lines")],
            [cluster("lines", ["127.0.0.1:%d" % backend.port],
                     tls={"ca_file": cert("ca"), "alpn": []})]))
        with connect(proxy.port("echo")) as sock:
            rfile = sock.makefile("rb")
            sock.sendall(b"one\n")
            self.assertEqual(rfile.readline(), b"e1: one\n")
            sock.sendall(b"two\n")
            # Half-close: the proxy sends close_notify to the server, which still answers.
            sock.shutdown(socket.SHUT_WR)
            self.assertEqual(rfile.read(), b"e1: two\nbye e1 2\n")
            rfile.close()
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
