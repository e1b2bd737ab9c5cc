"""Limits: over a server's max_connections_per_server the request gets 503 naming the cluster;
over a listener's max_connections new connections are refused (closed without a byte), and
both recover once load drops. Never a crash."""

import threading
import unittest

from harness import ProxyTestCase, cluster, config, connect, get, http_listener, wait_until


class LimitsTest(ProxyTestCase):
    def test_server_connection_limit_answers_503_then_recovers(self):
        backend = self.start_backend("b1")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [backend], retries=0,
                     limits={"max_connections_per_server": 1})]))
        port = proxy.port("web")
        slow = {}

        def slow_request():
            slow["response"] = get(port, "/slow/1500")

        thread = threading.Thread(target=slow_request)
        thread.start()
        # Once the slow request holds the only allowed connection, the next one is refused.
        wait_until(lambda: any(r["path"] == "/slow/1500" for r in backend.requests()),
                   5, message="slow request at the backend")
        limited = get(port, "/fast")
        self.assertEqual(limited.status, 503)
        self.assertIn(b"cluster 'app'", limited.body)
        self.assertIn(b"connection limit", limited.body)
        thread.join(10)
        self.assertEqual(slow["response"].status, 200)
        self.assertEqual(get(port, "/fast").status, 200)
        self.assertIsNone(proxy.process.poll())

    def test_listener_connection_limit_refuses_then_recovers(self):
        backend = self.start_backend("b1")
        proxy = self.start_proxy(config(
            [http_listener("web", "app", limits={"max_connections": 2})],
            [cluster("app", [backend])]))
        port = proxy.port("web")
        held = [connect(port), connect(port)]
        # Both held connections are served, so the proxy has counted them.
        for sock in held:
            sock.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(sock.recv(65536).startswith(b"HTTP/1.1 200"))

        extra = connect(port)
        extra.settimeout(5)
        try:
            extra.sendall(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
            data = extra.recv(65536)
        except ConnectionResetError:
            data = b""
        self.assertEqual(data, b"", "a connection over the limit must be closed without a byte")
        extra.close()

        held.pop().close()
        # The slot frees once the proxy sees the close; a new connection is then served.
        def served():
            try:
                return get(port, "/three", timeout=2).status == 200
            except (ConnectionError, OSError):
                return False
        wait_until(served, 5, interval=0.05, message="a connection under the limit served")
        for sock in held:
            sock.close()
        self.assertIsNone(proxy.process.poll())


if __name__ == "__main__":
    unittest.main()
