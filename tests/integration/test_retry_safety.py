"""Retries only where a replay is safe. The first server (first_available) reads each request,
body included, then closes without answering: a POST must not be sent again (502, received once),
while an idempotent GET is retried on the next server."""

import signal
import time
import unittest
import uuid

from harness import ProxyTestCase, cluster, config, get, http_listener


class RetrySafetyTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.dropper = self.start_backend("dropper", drop=True)
        self.good = self.start_backend("good")
        self.proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [self.dropper, self.good], policy="first_available", retries=2,
                     passive={"attempts": 1000, "offline_timeout": "10s"})]))

    def received(self, request_id):
        self.dropper.sync()
        self.good.sync()
        return [(b.id, r) for b in (self.dropper, self.good) for r in b.requests()
                if r["id"] == request_id]

    def test_post_with_body_sent_is_not_retried(self):
        request_id = str(uuid.uuid4())
        body = b"x" * 1000
        response = get(self.proxy.port("web"), "/orders", method="POST", body=body,
                       headers={"X-Request-Id": request_id})
        self.assertEqual(response.status, 502, response)
        got = self.received(request_id)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0][0], "dropper")
        self.assertEqual(got[0][1]["body"], len(body))  # The body did reach the server.
        self.stop_proxy(self.proxy)

    def test_get_is_retried_on_another_server(self):
        request_id = str(uuid.uuid4())
        response = get(self.proxy.port("web"), "/catalog", headers={"X-Request-Id": request_id})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("X-Backend"), "good")
        got = self.received(request_id)
        self.assertEqual([backend for backend, _ in got], ["dropper", "good"], got)
        records = self.proxy.wait_access_log(1)
        self.assertEqual(records[-1]["retries"], 1, records)
        self.assertEqual(records[-1]["upstream"], self.good.address, records)
        self.stop_proxy(self.proxy)


class HungServerTest(ProxyTestCase):
    """The first server is stopped (SIGSTOP): the kernel still accepts connections, so requests
    are sent and never answered. A GET goes on to the next server after the response timeout
    (as nginx's proxy_next_upstream timeout); a POST gets 504 and is never sent elsewhere."""

    def setUp(self):
        super().setUp()
        self.hung = self.start_backend("hung")
        self.good = self.start_backend("good")
        self.proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [self.hung, self.good], policy="first_available", retries=2,
                     timeouts={"connect": "1s", "response": "500ms", "idle": "10s"},
                     passive={"attempts": 1000, "offline_timeout": "10s"})]))
        self.hung.process.send_signal(signal.SIGSTOP)
        self.addCleanup(self.hung.process.send_signal, signal.SIGCONT)

    def received(self, request_id):
        self.hung.process.send_signal(signal.SIGCONT)  # It now reads what was queued.
        self.hung.sync()
        self.good.sync()
        return [(b.id, r) for b in (self.hung, self.good) for r in b.requests()
                if r["id"] == request_id]

    def test_get_goes_to_the_next_server_after_the_response_timeout(self):
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        response = get(self.proxy.port("web"), "/catalog", headers={"X-Request-Id": request_id})
        took = time.monotonic() - started
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("X-Backend"), "good")
        self.assertGreaterEqual(took, 0.45)  # It did wait for the hung server's timeout first.
        records = self.proxy.wait_access_log(1)
        self.assertEqual(records[-1]["retries"], 1, records)
        self.assertEqual(records[-1]["upstream"], self.good.address, records)
        got = self.received(request_id)
        self.assertEqual(sorted(backend for backend, _ in got), ["good", "hung"], got)
        self.stop_proxy(self.proxy)

    def test_post_gets_504_and_is_not_sent_elsewhere(self):
        request_id = str(uuid.uuid4())
        response = get(self.proxy.port("web"), "/orders", method="POST", body=b"y" * 500,
                       headers={"X-Request-Id": request_id})
        self.assertEqual(response.status, 504, response)
        got = self.received(request_id)
        self.assertEqual([backend for backend, _ in got], ["hung"], got)
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
