"""Panic and outlier ejection through the real binary.

Panic: when fewer than `panic_threshold` of a cluster's servers pass their health checks, the
proxy balances over all of them rather than crush the survivor; a cluster with panic off
(`panic_threshold: 0`) watching the same servers sends everything to the survivor. Panic never
lifts passive tracking: black-holed servers (connects time out) stay offline until their single
trial after `offline_timeout`, in panic as outside it.

Outlier ejection: a server answering a run of 5xx is ejected for `base_ejection_time` (no
request reaches it meanwhile) and returns when that time is over."""

import re
import time
import unittest
from collections import Counter

from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until
from test_health_checks import BlackHole

CHECKS = {"type": "http", "path": "/health", "interval": "200ms", "fast_interval": "100ms",
          "timeout": "500ms", "jitter": "0%", "rise": 1, "fall": 1}


def log_time(proxy, pattern, timeout=10):
    regex = re.compile(pattern)
    return proxy.stdout.wait_for(
        lambda lines: next((t for t, line in lines if regex.search(line)), None), timeout,
        "log line /%s/" % pattern)


def served(port, count, path="/who", expect=200):
    """Counter of X-Backend over `count` requests through the proxy."""
    seen = Counter()
    for _ in range(count):
        r = get(port, path)
        if r.status != expect:
            raise AssertionError("status %d, expected %d: %r" % (r.status, expect, r))
        seen[r.header("X-Backend")] += 1
    return seen


class PanicTest(ProxyTestCase):
    def test_below_the_threshold_the_cluster_balances_over_all_servers(self):
        a, b, c = (self.start_backend(name) for name in ("a", "b", "c"))
        proxy = self.start_proxy(config(
            [http_listener("panicky", "panicky"), http_listener("strict", "strict")],
            [cluster("panicky", [a, b, c], panic_threshold="50%", health_check=CHECKS),
             cluster("strict", [a, b, c], panic_threshold=0, health_check=CHECKS)]))
        panicky, strict = proxy.port("panicky"), proxy.port("strict")
        self.assertEqual(served(panicky, 30), Counter({"a": 10, "b": 10, "c": 10}))

        # One of three down: 2 of 3 healthy is above 50%, so no panic: a is skipped.
        get(a.port, "/set-health/500")
        for name in ("panicky", "strict"):
            log_time(proxy, r"cluster %s: server %s is down by health checks"
                            % (name, re.escape(a.address)))
        self.assertEqual(set(served(panicky, 20)), {"b", "c"})

        # Two of three down: 1 of 3 healthy is below 50%, so panic: all three serve again.
        get(b.port, "/set-health/500")
        for name in ("panicky", "strict"):
            log_time(proxy, r"cluster %s: server %s is down by health checks"
                            % (name, re.escape(b.address)))
        log_time(proxy, r"cluster panicky: panic: 1 of 3 servers healthy \(threshold 50%\), "
                        r"balancing over all of them except those offline by passive tracking")
        spread = served(panicky, 60)
        self.assertEqual(set(spread), {"a", "b", "c"}, spread)
        self.assertGreaterEqual(min(spread.values()), 10, spread)
        self.assertEqual(served(strict, 20), Counter({"c": 20}), "panic off: the survivor only")
        self.assertNotIn("cluster strict: panic", proxy.stdout.text())

        # Back above the threshold: panic is over and the one still down is skipped again.
        get(a.port, "/set-health/200")
        log_time(proxy, r"cluster panicky: panic over: 2 of 3 servers healthy")
        self.assertEqual(set(served(panicky, 20)), {"a", "c"})
        self.stop_proxy(proxy)


class PanicKeepsPassiveTrackingTest(ProxyTestCase):
    CONNECT_S = 0.4
    OFFLINE_S = 2.0
    LOAD_S = 6.0

    def black_hole(self):
        hole = BlackHole()
        self.addCleanup(hole.close)
        return hole

    def test_black_holed_servers_cost_one_connect_timeout_per_offline_timeout_in_panic(self):
        live = self.start_backend("live")
        holes = [self.black_hole(), self.black_hole()]
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [holes[0].address, holes[1].address, live],  # default panic: 50%
                     passive={"attempts": 1, "offline_timeout": "%ds" % self.OFFLINE_S},
                     timeouts={"connect": "%dms" % (self.CONNECT_S * 1000)})]))
        port = proxy.port("web")
        # The first requests meet each hole once: both offline, 1 of 3 healthy, panic.
        deadline = time.monotonic() + 10
        records_before = 0
        while "cluster app: panic: 1 of 3 servers healthy" not in proxy.stdout.text():
            self.assertLess(time.monotonic(), deadline, "no panic:\n" + proxy.stdout.text())
            self.assertEqual(get(port, "/").status, 200)
            records_before += 1

        # Steady load from one client, in panic.
        proxy.wait_access_log(max(records_before, 1))
        latencies = []
        started = time.monotonic()
        while time.monotonic() - started < self.LOAD_S:
            sent = time.monotonic()
            response = get(port, "/")
            latencies.append(time.monotonic() - sent)
            self.assertEqual(response.status, 200, response)
        window = time.monotonic() - started
        records = proxy.wait_access_log(records_before + len(latencies))
        self.assertNotIn("cluster app: panic over", proxy.stdout.text())

        # Each failed connect to a hole is a retry (the live server never fails), and a hole's
        # failures are at least offline_timeout apart (its trial comes only then), whatever the
        # machine's load: at most floor(window / offline_timeout) + 1 per hole.
        hole_attempts = sum(r["retries"] for r in records[records_before:])
        bound = len(holes) * (int(window / self.OFFLINE_S) + 1)
        self.assertLessEqual(hole_attempts, bound, "connect timeouts to the holes in %.1f s"
                             % window)
        slow = [t for t in latencies if t >= self.CONNECT_S]
        self.assertLessEqual(len(slow), bound, "requests that waited for a connect timeout")
        # And the trials do happen in panic: each hole's offline period ended at least once.
        self.assertGreaterEqual(hole_attempts, len(holes))
        self.stop_proxy(proxy)

    def test_a_lone_server_offline_gets_503_at_once_in_panic(self):
        hole = self.black_hole()
        proxy = self.start_proxy(config(
            [http_listener("web", "lone")],
            [cluster("lone", [hole.address], passive={"attempts": 1, "offline_timeout": "60s"},
                     timeouts={"connect": "1s"})]))
        port = proxy.port("web")
        self.assertEqual(get(port, "/").status, 502)  # Waited for the connect timeout once.
        log_time(proxy, r"cluster lone: panic: 0 of 1 servers healthy")
        for _ in range(10):
            sent = time.monotonic()
            response = get(port, "/")
            took = time.monotonic() - sent
            self.assertEqual(response.status, 503, response)
            # No connection attempt: well under the 1 s connect timeout, with room for a loaded
            # machine under ASan.
            self.assertLess(took, 0.5)
        self.stop_proxy(proxy)


class OutlierTest(ProxyTestCase):
    def test_server_answering_5xx_is_ejected_and_returns_after_the_ejection_time(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [a, b], panic_threshold=0, outlier={
                "consecutive_5xx": 3, "base_ejection_time": "2s",
                "max_ejection_percent": "50%"})]))
        port = proxy.port("web")
        self.assertEqual(served(port, 10), Counter({"a": 5, "b": 5}))

        get(a.port, "/set-status/503")
        statuses = Counter()
        for _ in range(6):  # Round robin: a's third 503 comes within six requests.
            r = get(port, "/who")
            statuses[(r.header("X-Backend"), r.status)] += 1
        self.assertEqual(statuses, Counter({("a", 503): 3, ("b", 200): 3}))
        ejected = log_time(proxy, r"cluster app: server %s ejected for 2000 ms after 3 "
                                  r"consecutive 5xx \(ejected 1 times\)" % re.escape(a.address))

        # Ejected: every request goes to b, none reaches a.
        a.sync()
        before = len(a.requests())
        self.assertEqual(served(port, 20), Counter({"b": 20}))
        a.sync()
        self.assertEqual([e["path"] for e in a.requests()[before:] if e["path"] != "/sync"], [],
                         "no request reaches an ejected server")

        get(a.port, "/set-status/200")  # Repaired while ejected.
        returned = log_time(proxy, r"cluster app: server %s returns after outlier ejection "
                                   r"\(ejected 1 times\)" % re.escape(a.address), timeout=10)
        # The sweep returns it within its period (250 ms) of the ejection's end.
        self.assertGreater(returned - ejected, 1.9)
        self.assertLess(returned - ejected, 2.0 + 1.5)
        wait_until(lambda: "a" in served(port, 4), 5, message="a serving again")
        self.assertEqual(served(port, 10), Counter({"a": 5, "b": 5}))
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
