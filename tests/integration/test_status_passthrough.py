"""A server's own error answers (404, 500, 503) reach the client unchanged and are never retried:
the backends' logs show each request exactly once."""

import unittest
import uuid

from harness import ProxyTestCase, cluster, config, get, http_listener


class StatusPassthroughTest(ProxyTestCase):
    def test_error_statuses_pass_through_once(self):
        backends = [self.start_backend(name) for name in ("b1", "b2", "b3")]
        proxy = self.start_proxy(config([http_listener("web", "app")],
                                        [cluster("app", backends, retries=2)]))
        for status in (404, 500, 503):
            with self.subTest(status=status):
                request_id = str(uuid.uuid4())
                response = get(proxy.port("web"), "/status/%d" % status,
                               headers={"X-Request-Id": request_id})
                self.assertEqual(response.status, status)
                backend = response.header("X-Backend")
                self.assertIn(backend, ("b1", "b2", "b3"))
                self.assertEqual(response.body, b"status %d from %s\n" % (status, backend.encode()))
                self.assertEqual(response.header("X-Request-Id"), request_id)
                self.assertEqual(response.header("X-Path"), "/status/%d" % status)
                for b in backends:
                    b.sync()
                received = [r for b in backends for r in b.requests() if r["id"] == request_id]
                self.assertEqual(len(received), 1, received)
        # One line each, no retry. Lines of requests served by different workers may come in
        # either order (the log thread empties one worker's ring after the other).
        records = proxy.wait_access_log(3)
        self.assertEqual({r["path"]: (r["status"], r["retries"]) for r in records},
                         {"/status/404": (404, 0), "/status/500": (500, 0),
                          "/status/503": (503, 0)})
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
