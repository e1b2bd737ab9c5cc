"""Retries only where a replay is safe. The first server (first_available) reads each request,
body included, then closes without answering: a POST must not be sent again (502, received once),
while an idempotent GET is retried on the next server."""

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


if __name__ == "__main__":
    unittest.main()
