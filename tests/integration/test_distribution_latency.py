"""Shares of least_latency through the real binary, counted by the X-Backend each answer carries
(what the backends served). Sequential traffic (one request at a time on one keep-alive
connection): three equally fast servers (5 ms a request) all keep a fair part, none starves,
with equal weights, with weights 1, 2, 1 and with a fourth server that is dead (a closed port)
and out by active checks; a server that really is slower (35 ms against 5 ms) gets clearly less
than each of the others. Concurrent traffic (8 threads, each with its own keep-alive connection)
against equally fast servers (15 ms a request), through a proxy with one worker and one with
two: the shares follow the weights approximately. Prints the measured shares."""

import unittest

from harness import (DEAD_SERVER_CHECK, DistributionTestCase, LIVE, closed_port_address, cluster,
                     config, get, http_listener, served_concurrently, served_on_one_connection,
                     wait_down_by_checks)

SEQUENTIAL = 300
PATH = "/slow/5"  # Work that takes the same 5 ms everywhere, so latency differences are real.
EXTRA_DELAY_MS = 30
# Idle servers of similar latency tie (costs within 25% count as equal) and the weighted first
# draw decides, so one request at a time follows the weights; without that margin the noise of
# Python backends on 2 loaded cores decided every comparison (equal servers measured 0.14..0.57).
# Measured (3 runs on a quiet machine): equal servers 0.28..0.43, weights 1,2,1 within 0.05 of
# 0.25 / 0.50 / 0.25. The equal-servers bound is the 15-50 %; the weighted bounds are
# 0.13 around the weights (over 4 binomial sigmas of 300 requests, plus latency noise) and fail
# a policy that ignores the weights (0.33 for weight 2) or floods the heavier server (0.86).
EQUAL_SHARE_RANGE = (0.15, 0.50)
SEQUENTIAL_BY_WEIGHT_RANGE = {"b1": (0.12, 0.38), "b2": (0.37, 0.63), "b3": (0.12, 0.38)}
# A server 7 times slower must get at most half of what the less used fast server gets: a
# latency-aware policy sends it little; one that ignores latency gives it a third.
SLOW_AT_MOST = 0.5
CLIENTS = 8
PER_CLIENT = 60
CONCURRENT_PATH = "/slow/15"  # Equally fast servers, slow enough that the 8 requests overlap.
# Under load the cost, estimate x (1 + in flight / weight), settles the queues at 2, 4, 2 when the
# estimates are equal, so the shares follow the weights; but the estimates are measured, and a
# Peak-EWMA jumps on one slow answer, so a server whose backend was slower for a moment gets less
# for a while. Measured (3 runs, costs within 25% tying): weight 2 0.48..0.50, weight 1
# 0.25..0.27, equal 0.31..0.35. Bounds with room for sanitizer builds; ignoring the weights
# (0.33 for weight 2) or flooding the heavier server (> 0.7) still fails.
CONCURRENT_BY_WEIGHT_RANGE = {"b1": (0.15, 0.35), "b2": (0.40, 0.62), "b3": (0.15, 0.35)}
CONCURRENT_EQUAL_RANGE = (0.24, 0.43)

class LeastLatencyDistributionTest(DistributionTestCase):
    def setUp(self):
        super().setUp()
        b1, b2, b3, slow = [self.start_backend(name) for name in LIVE + ["slow"]]
        self.assertEqual(get(slow.port, "/set-delay/%d" % EXTRA_DELAY_MS).status, 200)
        self.dead = closed_port_address()
        self.clusters = [
            cluster("equal", [b1, b2, b3], "least_latency"),
            cluster("one-slow", [b1, b2, slow], "least_latency"),
            cluster("weighted", [b1, b2, b3], "least_latency", [1, 2, 1]),
            cluster("weighted-dead", [b1, b2, b3, self.dead], "least_latency", [1, 2, 1, 1],
                    health_check=DEAD_SERVER_CHECK),
        ]
        self.listeners = [http_listener(c["name"], c["name"]) for c in self.clusters]
        self.proxy = self.start_proxy(config(self.listeners, self.clusters, workers=1))
        wait_down_by_checks(self.proxy, "weighted-dead", self.dead)

    def assert_shares_within(self, shares, ranges, what):
        outside = {s: share for s, share in shares.items()
                   if not ranges[s][0] <= share <= ranges[s][1]}
        self.assertEqual(outside, {}, "%s: shares outside %s; all: %s" % (what, ranges, shares))

    def test_equal_servers_all_keep_a_fair_part(self):
        names = served_on_one_connection(self.proxy.port("equal"), SEQUENTIAL, PATH)
        shares = self.measure("least_latency", "3 equal, 5 ms", "sequential, 1 conn", names,
                              LIVE)
        self.assert_shares_within(shares, dict.fromkeys(LIVE, EQUAL_SHARE_RANGE), "equal")

    def test_weighted_servers_all_keep_a_fair_part(self):
        for scenario, listener in (("1,2,1, 5 ms", "weighted"),
                                   ("1,2,1 + dead (1), 5 ms", "weighted-dead")):
            names = served_on_one_connection(self.proxy.port(listener), SEQUENTIAL, PATH)
            shares = self.measure("least_latency", scenario, "sequential, 1 conn", names, LIVE)
            with self.subTest(scenario=scenario):
                self.assert_shares_within(shares, SEQUENTIAL_BY_WEIGHT_RANGE, scenario)

    def test_slower_server_gets_clearly_less(self):
        servers = ["b1", "b2", "slow"]
        names = served_on_one_connection(self.proxy.port("one-slow"), SEQUENTIAL, PATH)
        shares = self.measure("least_latency", "5, 5, 35 ms", "sequential, 1 conn", names,
                              servers)
        fast = min(shares["b1"], shares["b2"])
        self.assertLessEqual(shares["slow"], SLOW_AT_MOST * fast,
                             "the slow server's share against the fast ones': %s" % shares)

    def check_concurrent(self, proxy, workers, scenario, listener, ranges):
        names = served_concurrently(proxy.port(listener), CLIENTS, PER_CLIENT, CONCURRENT_PATH)
        shares = self.measure("least_latency", scenario, "%d conns, %d worker(s), 15 ms"
                              % (CLIENTS, workers), names, LIVE)
        with self.subTest(scenario=scenario, workers=workers):
            self.assert_shares_within(shares, ranges, "%s, %d workers" % (scenario, workers))

    def test_concurrent_load_follows_weights_approximately(self):
        self.check_concurrent(self.proxy, 1, "weights 1,2,1", "weighted",
                              CONCURRENT_BY_WEIGHT_RANGE)
        self.check_concurrent(self.proxy, 1, "1,2,1 + dead (1)", "weighted-dead",
                              CONCURRENT_BY_WEIGHT_RANGE)
        self.check_concurrent(self.proxy, 1, "3 equal", "equal",
                              dict.fromkeys(LIVE, CONCURRENT_EQUAL_RANGE))
        proxy = self.start_proxy(config(self.listeners, self.clusters, workers=2))
        self.check_concurrent(proxy, 2, "weights 1,2,1", "weighted", CONCURRENT_BY_WEIGHT_RANGE)
        self.stop_proxy(proxy)

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
