"""Retries only where the cluster's retry_on allows them and a replay is safe.

The first server (first_available) reads each request, body included, then closes without
answering, or is stopped (SIGSTOP: the kernel still accepts connections, so requests are sent and
never answered). With `retry_on: [connect_failure, reset_before_response, response_timeout]` an
idempotent GET goes on to the next server (as nginx's proxy_next_upstream and HAProxy's retry-on)
while a POST is never sent twice. With the default, `[connect_failure]`, nothing that reached a
server is replayed, and passive tracking (default `count: [connect_failure]`) does not take such a
server offline: active checks and outlier ejection are the tools for it."""

import signal
import time
import unittest
import uuid

from harness import ProxyTestCase, cluster, config, get, http_listener

EVERY_FAILURE = ["connect_failure", "reset_before_response", "response_timeout"]
# attempts: 1, so a single counted failure would take the first server offline.
ONE_FAILURE_OFFLINE = {"attempts": 1, "offline_timeout": "30s"}


class RetryCase(ProxyTestCase):
    """Listeners `replaying` (retry_on: every word), `plain` (defaults) and, for the hung server,
    `counting` (defaults, but passive.count also counts response timeouts), all over the same two
    servers, the first being the one that fails."""

    def start(self, failing, good, **extra):
        self.failing, self.good = failing, good
        servers = [failing, good]
        self.proxy = self.start_proxy(config(
            [http_listener("replaying", "replaying"), http_listener("plain", "plain"),
             http_listener("counting", "counting")],
            [cluster("replaying", servers, policy="first_available", retries=2,
                     retry_on=EVERY_FAILURE, passive={"attempts": 1000, "offline_timeout": "10s"},
                     **extra),
             cluster("plain", servers, policy="first_available", retries=2,
                     passive=ONE_FAILURE_OFFLINE, **extra),
             cluster("counting", servers, policy="first_available", retries=2,
                     passive=dict(ONE_FAILURE_OFFLINE,
                                  count=["connect_failure", "response_timeout"]), **extra)]))

    def received(self, request_id):
        self.failing.sync()
        self.good.sync()
        return [(b.id, r) for b in (self.failing, self.good) for r in b.requests()
                if r["id"] == request_id]

    def request(self, listener, path="/catalog", **kwargs):
        request_id = str(uuid.uuid4())
        headers = {"X-Request-Id": request_id}
        return request_id, get(self.proxy.port(listener), path, headers=headers, **kwargs)

    def upstreams(self, listener):
        return [r["upstream"] for r in self.proxy.access_log() if r["listener"] == listener]


class ResetBeforeResponseTest(RetryCase):
    def setUp(self):
        super().setUp()
        self.start(self.start_backend("dropper", drop=True), self.start_backend("good"))

    def test_post_with_body_sent_is_not_retried(self):
        body = b"x" * 1000
        request_id, response = self.request("replaying", "/orders", method="POST", body=body)
        self.assertEqual(response.status, 502, response)
        got = self.received(request_id)
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0][0], "dropper")
        self.assertEqual(got[0][1]["body"], len(body))  # The body did reach the server.
        self.stop_proxy(self.proxy)

    def test_get_is_retried_on_another_server_when_retry_on_says_so(self):
        request_id, response = self.request("replaying")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("X-Backend"), "good")
        got = self.received(request_id)
        self.assertEqual([backend for backend, _ in got], ["dropper", "good"], got)
        records = self.proxy.wait_access_log(1)
        self.assertEqual(records[-1]["retries"], 1, records)
        self.assertEqual(records[-1]["upstream"], self.good.address, records)
        self.stop_proxy(self.proxy)

    def test_by_default_a_get_is_not_replayed_and_the_server_stays_in(self):
        first, response = self.request("plain")
        self.assertEqual(response.status, 502, response)
        self.assertIn(b"closed the connection without answering", response.body)
        # attempts: 1, yet the close is not counted: the next request goes to the dropper again.
        second, response = self.request("plain")
        self.assertEqual(response.status, 502, response)
        for request_id in (first, second):
            got = self.received(request_id)
            self.assertEqual([backend for backend, _ in got], ["dropper"], got)
        self.proxy.wait_access_log(2)
        self.assertEqual(self.upstreams("plain"), [self.failing.address] * 2)
        self.stop_proxy(self.proxy)


class HungServerTest(RetryCase):
    """The first server is stopped (SIGSTOP) after the proxy starts."""

    def setUp(self):
        super().setUp()
        self.start(self.start_backend("hung"), self.start_backend("good"),
                   timeouts={"connect": "1s", "response": "500ms", "idle": "10s"})
        self.failing.process.send_signal(signal.SIGSTOP)
        self.addCleanup(self.failing.process.send_signal, signal.SIGCONT)

    def received(self, request_id):
        self.failing.process.send_signal(signal.SIGCONT)  # It now reads what was queued.
        return super().received(request_id)

    def test_get_goes_to_the_next_server_after_the_response_timeout_when_retry_on_says_so(self):
        started = time.monotonic()
        request_id, response = self.request("replaying")
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
        request_id, response = self.request("replaying", "/orders", method="POST",
                                            body=b"y" * 500)
        self.assertEqual(response.status, 504, response)
        got = self.received(request_id)
        self.assertEqual([backend for backend, _ in got], ["hung"], got)
        self.stop_proxy(self.proxy)

    def test_by_default_a_get_gets_504_and_the_hung_server_stays_in(self):
        first, response = self.request("plain")
        self.assertEqual(response.status, 504, response)
        # attempts: 1, yet the timeout is not counted: the next request waits for it again.
        second, response = self.request("plain")
        self.assertEqual(response.status, 504, response)
        self.proxy.wait_access_log(2)
        self.assertEqual(self.upstreams("plain"), [self.failing.address] * 2)
        for request_id in (first, second):
            got = self.received(request_id)
            self.assertEqual([backend for backend, _ in got], ["hung"], got)
        self.stop_proxy(self.proxy)

    def test_passive_count_can_take_a_hung_server_offline(self):
        _, response = self.request("counting")
        self.assertEqual(response.status, 504, response)  # retry_on is the default: no replay.
        # The timeout counted (attempts: 1): offline, so the next request goes straight on.
        started = time.monotonic()
        _, response = self.request("counting")
        took = time.monotonic() - started
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.header("X-Backend"), "good")
        # Well under the 500 ms response timeout it would otherwise wait (loaded CI: generous).
        self.assertLess(took, 0.4)
        # Lines of requests served by different workers may come in either order: match by status.
        records = [r for r in self.proxy.wait_access_log(2) if r["listener"] == "counting"]
        self.assertEqual(sorted((r["status"], r["upstream"]) for r in records),
                         [(200, self.good.address), (504, self.failing.address)], records)
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
