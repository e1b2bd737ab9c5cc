"""Graceful shutdown: SIGTERM with slow requests in flight. The listeners close at once (new
connections are refused), idle keep-alive connections are closed, every request in flight
completes with 200, and the process exits 0."""

import http.client
import signal
import socket
import threading
import time
import unittest

from harness import ProxyTestCase, cluster, config, connect, http_listener, wait_until

IN_FLIGHT = 6


class GracefulShutdownTest(ProxyTestCase):
    def test_sigterm_drains_requests_in_flight(self):
        backends = [self.start_backend(name) for name in ("b1", "b2")]
        proxy = self.start_proxy(config([http_listener("web", "app")],
                                        [cluster("app", backends)], drain_timeout="10s"))
        port = proxy.port("web")
        results = [None] * IN_FLIGHT

        def slow_request(i):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            try:
                conn.request("GET", "/slow/1500", headers={"X-Request-Id": "slow-%d" % i})
                response = conn.getresponse()
                results[i] = (response.status, response.read(), time.monotonic())
            except Exception as e:
                results[i] = ("%s: %s" % (type(e).__name__, e), b"", time.monotonic())
            finally:
                conn.close()

        # An idle keep-alive connection, which the drain must close.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.addCleanup(idle.close)
        idle.request("GET", "/warm")
        warm = idle.getresponse()
        self.assertEqual(warm.status, 200)
        warm.read()

        threads = [threading.Thread(target=slow_request, args=(i,), daemon=True)
                   for i in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(1 for b in backends for r in b.requests()
                               if (r["id"] or "").startswith("slow-")) == IN_FLIGHT,
                   5, message="all slow requests at the backends")

        proxy.process.send_signal(signal.SIGTERM)
        t_signal = time.monotonic()

        def refused():
            try:
                connect(port, timeout=1).close()
                return False
            except ConnectionResetError:
                return False  # Caught in a listening socket as it closed; poll on.
            except ConnectionRefusedError:
                return time.monotonic()

        t_refused = wait_until(refused, 1.0, message="new connections refused")
        self.assertTrue(all(r is None for r in results),
                        "listeners must close while requests are still in flight")
        self.assertLess(t_refused - t_signal, 1.0)

        # The idle keep-alive connection is closed by the proxy, not left to time out.
        idle.sock.settimeout(5)
        self.assertEqual(idle.sock.recv(1), b"")

        for thread in threads:
            thread.join(15)
        for i, result in enumerate(results):
            self.assertEqual(result[0], 200, "request %d: %r" % (i, result))
            self.assertTrue(result[1].startswith(b"backend b"), result)
        self.stop_proxy(proxy)
        self.assertIn("draining", proxy.stdout.text())

    def test_sigterm_right_after_start_exits_promptly(self):
        # SIGTERM as soon as the listener line appears: the handler must already be installed
        # (the default action would kill the process with status -15), and nothing is in flight.
        backend = self.start_backend("b1")
        for _ in range(5):
            proxy = self.start_proxy(config([http_listener("web", "app")],
                                            [cluster("app", [backend])], drain_timeout="10s"))
            start = time.monotonic()
            self.stop_proxy(proxy)
            self.assertLess(time.monotonic() - start, 2.0)
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", proxy.port("web")), timeout=1)


if __name__ == "__main__":
    unittest.main()
