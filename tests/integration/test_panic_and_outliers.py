"""Panic and outlier ejection through the real binary.

Panic: when fewer than `panic_threshold` of a cluster's servers pass their health checks, the
proxy balances over all of them rather than crush the survivor; a cluster with panic off
(`panic_threshold: 0`) watching the same servers sends everything to the survivor.

Outlier ejection: a server answering a run of 5xx is ejected for `base_ejection_time` (no
request reaches it meanwhile) and returns when that time is over."""

import re
import unittest
from collections import Counter

from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until

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
                        r"balancing over all of them")
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
