"""Shares of the randomised weighted policies through the real binary, counted by the X-Backend
each answer carries (what the backends served): random, power_of_two and agent (no agent
running, so every server's load counts as 50) all follow the weights 1, 2, 1, also with a fourth
server that is dead (a closed port) and out by active checks. Sequential traffic is one request
at a time on one keep-alive connection (idle servers); concurrent traffic is 8 clients (8
threads, each with its own keep-alive connection) against equally fast servers that take 15 ms
per request, with one worker and with two, and with the dead server. Prints the measured
shares."""

import unittest

from harness import (DEAD_SERVER_CHECK, DistributionTestCase, LIVE, binomial_tolerance,
                     closed_port_address, cluster, config, http_listener, served_concurrently,
                     served_on_one_connection, wait_down_by_checks)

BY_WEIGHT = {"b1": 0.25, "b2": 0.5, "b3": 0.25}
# Independent weighted draws: each share strays binomially. 1200 picks keep 4.5 standard
# deviations within +-0.065 of 0.5 and +-0.056 of 0.25, so a correct policy essentially never
# fails, while one that favours the heavier server at every tie (0.86 for weight 2) always does.
SEQUENTIAL = 1200
CLIENTS = 8
PER_CLIENT = 80
SLOW_PATH = "/slow/15"  # Equally fast servers, slow enough that the 8 clients' requests overlap.
# Under load power_of_two compares whole requests in flight (2 to 4 per server), which only
# approximates the weights: 0.03 on top of the binomial spread of the 640 picks. random and
# agent draw independently of the loads in flight, so concurrency changes nothing for them:
# the binomial spread alone (4.5 sigmas, +-0.088 at 0.5, +-0.077 at 0.25).
CONCURRENT_SLACK = {"random": 0.0, "agent": 0.0, "power_of_two": 0.03}

class RandomisedDistributionTest(DistributionTestCase):
    def setUp(self):
        super().setUp()
        b1, b2, b3 = [self.start_backend(name) for name in LIVE]
        self.dead = closed_port_address()
        # Agents are queried on a port where none listens: every load stays unknown.
        no_agent = {"port": int(closed_port_address().rsplit(":", 1)[1]), "interval": "200ms"}
        self.clusters = []
        for policy in ("random", "power_of_two", "agent"):
            extra = {"agent": no_agent} if policy == "agent" else {}
            self.clusters.append(cluster(policy, [b1, b2, b3], policy, [1, 2, 1], **extra))
            self.clusters.append(cluster(policy + "-dead", [b1, b2, b3, self.dead], policy,
                                         [1, 2, 1, 1], health_check=DEAD_SERVER_CHECK, **extra))
        self.listeners = [http_listener(c["name"], c["name"]) for c in self.clusters]
        self.proxy = self.start_proxy(config(self.listeners, self.clusters, workers=1))
        for policy in ("random", "power_of_two", "agent"):
            wait_down_by_checks(self.proxy, policy + "-dead", self.dead)

    def check_sequential(self, policy):
        for scenario, listener in (("weights 1,2,1", policy),
                                   ("1,2,1 + dead (1)", policy + "-dead")):
            names = served_on_one_connection(self.proxy.port(listener), SEQUENTIAL)
            shares = self.measure(policy, scenario, "sequential, 1 conn", names, LIVE)
            with self.subTest(scenario=scenario):
                self.assert_shares_near(shares, BY_WEIGHT,
                                        lambda share: binomial_tolerance(share, SEQUENTIAL),
                                        "%s sequential, %s" % (policy, scenario))

    def test_random_follows_weights(self):
        self.check_sequential("random")

    def test_power_of_two_follows_weights_on_idle_servers(self):
        self.check_sequential("power_of_two")

    def test_agent_without_agents_follows_weights(self):
        self.check_sequential("agent")

    def check_concurrent(self, policy, proxy, workers, scenario="weights 1,2,1", suffix=""):
        names = served_concurrently(proxy.port(policy + suffix), CLIENTS, PER_CLIENT, SLOW_PATH)
        count = len(names)
        shares = self.measure(policy, scenario, "%d conns, %d worker(s), 15 ms"
                              % (CLIENTS, workers), names, LIVE)
        with self.subTest(scenario=scenario, workers=workers):
            self.assert_shares_near(
                shares, BY_WEIGHT,
                lambda share: binomial_tolerance(share, count) + CONCURRENT_SLACK[policy],
                "%s concurrent, %d workers, %s" % (policy, workers, scenario))

    def check_concurrent_everywhere(self, policy):
        """One worker, one worker with the dead server, two workers."""
        self.check_concurrent(policy, self.proxy, 1)
        self.check_concurrent(policy, self.proxy, 1, "1,2,1 + dead (1)", "-dead")
        proxy = self.start_proxy(config(self.listeners, self.clusters, workers=2))
        self.check_concurrent(policy, proxy, 2)
        self.stop_proxy(proxy)

    def test_power_of_two_under_concurrent_load_follows_weights(self):
        self.check_concurrent_everywhere("power_of_two")

    def test_random_under_concurrent_load_follows_weights(self):
        self.check_concurrent_everywhere("random")

    def test_agent_without_agents_under_concurrent_load_follows_weights(self):
        self.check_concurrent_everywhere("agent")

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
