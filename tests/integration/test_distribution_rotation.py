"""Shares of the rotating policies through the real binary, counted by the X-Backend each answer
carries (what the backends served): round_robin gives every live server an equal share whatever
the weights, weighted_round_robin follows the weights, first_available sends everything to the
first live server; each also with a fourth server that is dead (a closed port) and out by
active checks. Sequential traffic is one request at a time on one keep-alive connection, and
must be an exact rotation; concurrent traffic is 8 threads, each with its own keep-alive
connection, through a proxy with one worker and one with two. Prints the measured shares."""

import collections
import unittest

from harness import (DEAD_SERVER_CHECK, DistributionTestCase, LIVE, closed_port_address, cluster,
                     config, http_listener, served_concurrently, served_on_one_connection,
                     wait_down_by_checks)

SEQUENTIAL = 300
CLIENTS = 8
PER_CLIENT = 40
# Rotations are deterministic: over N picks each share is exact up to one pick in a cycle, so the
# issue's +-0.05 leaves room only for a policy that skews the rotation, which must fail.
ROTATION_TOLERANCE = 0.05

class RotationDistributionTest(DistributionTestCase):
    def setUp(self):
        super().setUp()
        b1, b2, b3 = self.backends = [self.start_backend(name) for name in LIVE]
        self.dead = closed_port_address()
        check = {"health_check": DEAD_SERVER_CHECK}
        self.clusters = {
            "rr-weighted": cluster("rr-weighted", [b1, b2, b3], "round_robin", [1, 2, 1]),
            "rr-dead": cluster("rr-dead", [b1, b2, b3, self.dead], "round_robin", **check),
            "wrr": cluster("wrr", [b1, b2, b3], "weighted_round_robin", [1, 2, 1]),
            "wrr-dead": cluster("wrr-dead", [b1, b2, b3, self.dead], "weighted_round_robin",
                                [1, 2, 1, 1], **check),
            "fa": cluster("fa", [b1, b2, b3], "first_available"),
            "fa-dead": cluster("fa-dead", [self.dead, b1, b2, b3], "first_available", **check),
        }
        listeners = [http_listener(name, name) for name in self.clusters]
        clusters = list(self.clusters.values())
        self.proxies = {workers: self.start_proxy(config(listeners, clusters, workers=workers))
                        for workers in (1, 2)}
        for name in ("rr-dead", "wrr-dead", "fa-dead"):
            for proxy in self.proxies.values():
                wait_down_by_checks(proxy, name, self.dead)

    def sequential(self, policy, scenario, listener):
        names = served_on_one_connection(self.proxies[1].port(listener), SEQUENTIAL)
        shares = self.measure(policy, scenario, "sequential, 1 conn", names, LIVE)
        return names, shares

    def concurrent(self, policy, scenario, listener):
        """Shares under 8 concurrent clients, through the one-worker and the two-worker proxy."""
        out = {}
        for workers, proxy in self.proxies.items():
            names = served_concurrently(proxy.port(listener), CLIENTS, PER_CLIENT)
            out[workers] = self.measure(policy, scenario, "%d conns, %d worker%s"
                                        % (CLIENTS, workers, "s" if workers > 1 else ""),
                                        names, LIVE)
        return out

    def check_round_robin(self, scenario, listener):
        names, shares = self.sequential("round_robin", scenario, listener)
        concurrent = self.concurrent("round_robin", scenario, listener)
        with self.subTest(traffic="sequential", check="shares"):
            self.assert_shares_near(shares, dict.fromkeys(LIVE, 1 / 3), ROTATION_TOLERANCE,
                                    "round_robin sequential, " + scenario)
        with self.subTest(traffic="sequential", check="exact rotation"):
            # The first three answers are the three servers, then the same order repeats.
            self.assertEqual(sorted(names[:3]), LIVE, names[:12])
            breaks = [i for i in range(3, len(names)) if names[i] != names[i - 3]]
            self.assertEqual(breaks, [], "rotation broken at these requests: %s" % names[:12])
        for workers, shares in concurrent.items():
            with self.subTest(traffic="concurrent", workers=workers):
                self.assert_shares_near(shares, dict.fromkeys(LIVE, 1 / 3), ROTATION_TOLERANCE,
                                        "round_robin concurrent, %d workers, %s"
                                        % (workers, scenario))

    def test_round_robin_ignores_weights(self):
        self.check_round_robin("weights 1,2,1", "rr-weighted")

    def test_round_robin_gives_live_servers_equal_shares_with_one_dead(self):
        self.check_round_robin("1,1,1 + dead", "rr-dead")

    def check_weighted_round_robin(self, scenario, listener):
        expected = {"b1": 0.25, "b2": 0.5, "b3": 0.25}
        names, shares = self.sequential("weighted_round_robin", scenario, listener)
        concurrent = self.concurrent("weighted_round_robin", scenario, listener)
        with self.subTest(traffic="sequential", check="shares"):
            self.assert_shares_near(shares, expected, ROTATION_TOLERANCE,
                                    "weighted_round_robin sequential, " + scenario)
        with self.subTest(traffic="sequential", check="smooth rotation"):
            # Any sum(weights) = 4 consecutive picks hold each server exactly its weight.
            for i in range(len(names) - 3):
                window = collections.Counter(names[i:i + 4])
                self.assertEqual(window, {"b1": 1, "b2": 2, "b3": 1},
                                 "requests %d..%d: %s" % (i, i + 3, names[i:i + 4]))
        for workers, shares in concurrent.items():
            with self.subTest(traffic="concurrent", workers=workers):
                self.assert_shares_near(shares, expected, ROTATION_TOLERANCE,
                                        "weighted_round_robin concurrent, %d workers, %s"
                                        % (workers, scenario))

    def test_weighted_round_robin_follows_weights(self):
        self.check_weighted_round_robin("weights 1,2,1", "wrr")

    def test_weighted_round_robin_follows_weights_with_one_dead(self):
        self.check_weighted_round_robin("1,2,1 + dead (1)", "wrr-dead")

    def check_first_available(self, scenario, listener):
        names, _ = self.sequential("first_available", scenario, listener)
        concurrent = self.concurrent("first_available", scenario, listener)
        self.assertEqual(collections.Counter(names), {"b1": SEQUENTIAL}, scenario)
        for workers, shares in concurrent.items():
            self.assertEqual(shares["b1"], 1.0, "%d workers, %s: %s" % (workers, scenario, shares))

    def test_first_available_sends_everything_to_the_first(self):
        self.check_first_available("all live", "fa")

    def test_first_available_skips_a_dead_first_server(self):
        self.check_first_available("dead first", "fa-dead")

    def tearDown(self):
        for proxy in self.proxies.values():
            self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
