"""Shares of the consistent-hash policies through the real binary, counted by the X-Backend each
answer carries (what the backends served): ring_hash and maglev on `hash_key: header:X-User`,
600 distinct users over four live servers weighted 1, 2, 1, 1. Every user sticks to one server,
the servers' shares of the users follow the weights, and when the fourth server dies (its port
closed) and active checks take it out, its users move to the others while no other user moves.
Traffic: one request at a time on one keep-alive connection, and 8 concurrent clients (8 threads,
each with its own keep-alive connection and 75 of the users) through a proxy with one worker and
one with two: every user reaches the same server as one at a time. Prints the measured shares."""

import collections
import unittest

from harness import (DistributionTestCase, binomial_tolerance, cluster, config, http_listener,
                     served_concurrently, served_on_one_connection, wait_down_by_checks)

SERVERS = ["b1", "b2", "b3", "b4"]
WEIGHTS = [1, 2, 1, 1]
BY_WEIGHT = {"b1": 0.2, "b2": 0.4, "b3": 0.2, "b4": 0.2}
USERS = ["user-%d" % i for i in range(600)]
CLIENTS = 8
USERS_PER_CLIENT = len(USERS) // CLIENTS
# A tcp check every 200 ms; one refused connection takes the dead server out.
CHECK = {"type": "tcp", "interval": "200ms", "timeout": "1s", "fall": 1, "jitter": "0%"}
# Users land on servers like independent weighted draws: 4.5 binomial standard deviations of 600
# keys (+-0.090 at 0.4, +-0.073 at 0.2), plus 0.03 for the table's own imbalance (ring points
# and Maglev slots give each server its weight only to within a few percent).
TABLE_IMBALANCE = 0.03

def by_user(names):
    return dict(zip(USERS, names))


class HashingDistributionTest(DistributionTestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_backend(name) for name in SERVERS]
        clusters = [cluster(policy, self.backends, policy, WEIGHTS, hash_key="header:X-User",
                            health_check=CHECK) for policy in ("ring_hash", "maglev")]
        self.listeners = [http_listener(c["name"], c["name"]) for c in clusters]
        self.clusters = clusters
        self.proxy = self.start_proxy(config(self.listeners, clusters, workers=1))

    def picks(self, policy):
        """{user: server} for one request per user, all on one connection."""
        return by_user(served_on_one_connection(self.proxy.port(policy), len(USERS),
                                                headers_for=lambda i: {"X-User": USERS[i]}))

    def concurrent_picks(self, proxy, policy):
        """{user: server} for one request per user, sent by 8 concurrent clients."""
        return by_user(served_concurrently(
            proxy.port(policy), CLIENTS, USERS_PER_CLIENT,
            headers_for=lambda client, i: {"X-User": USERS[client * USERS_PER_CLIENT + i]}))

    def test_concurrent_clients_reach_the_same_servers_as_one_at_a_time(self):
        proxies = {1: self.proxy,
                   2: self.start_proxy(config(self.listeners, self.clusters, workers=2))}
        for policy in ("ring_hash", "maglev"):
            sequential = self.picks(policy)
            for workers, proxy in proxies.items():
                concurrent = self.concurrent_picks(proxy, policy)
                shares = self.measure(policy, "1,2,1,1 all live", "600 users, %d conns, %d "
                                      "worker(s)" % (CLIENTS, workers), list(concurrent.values()),
                                      SERVERS)
                with self.subTest(policy=policy, workers=workers, check="same as sequential"):
                    moved = {u: (sequential[u], concurrent[u]) for u in USERS
                             if concurrent[u] != sequential[u]}
                    self.assertEqual(moved, {}, "users on another server than one at a time "
                                     "(sequential, concurrent)")
                with self.subTest(policy=policy, workers=workers, check="weights"):
                    self.assert_shares_near(
                        shares, BY_WEIGHT,
                        lambda share: binomial_tolerance(share, len(USERS)) + TABLE_IMBALANCE,
                        "%s users per server, %d concurrent clients" % (policy, CLIENTS))
        self.stop_proxy(proxies[2])

    def test_users_stick_follow_weights_and_only_the_dead_servers_users_move(self):
        before = {}
        for policy in ("ring_hash", "maglev"):
            before[policy] = self.picks(policy)
            shares = self.measure(policy, "1,2,1,1 all live", "600 users, 1 conn",
                                  list(before[policy].values()), SERVERS)
            with self.subTest(policy=policy, check="sticky"):
                again = self.picks(policy)
                moved = [u for u in USERS if again[u] != before[policy][u]]
                self.assertEqual(moved, [], "users that changed server between two rounds")
            with self.subTest(policy=policy, check="weights"):
                self.assert_shares_near(
                    shares, BY_WEIGHT,
                    lambda share: binomial_tolerance(share, len(USERS)) + TABLE_IMBALANCE,
                    "%s users per server" % policy)

        dead = self.backends[3]
        dead.kill()
        for policy in ("ring_hash", "maglev"):
            wait_down_by_checks(self.proxy, policy, dead.address)
        for policy in ("ring_hash", "maglev"):
            after = self.picks(policy)
            self.measure(policy, "1,2,1,1, b4 dead", "600 users, 1 conn", list(after.values()),
                         SERVERS)
            with self.subTest(policy=policy, check="only the dead server's users move"):
                moved = collections.Counter(
                    (before[policy][u], after[u]) for u in USERS if after[u] != before[policy][u])
                stayed_on_dead = [u for u in USERS if after[u] == "b4"]
                self.assertEqual(stayed_on_dead, [], "users still sent to the dead server")
                wrongly_moved = {pair: n for pair, n in moved.items() if pair[0] != "b4"}
                self.assertEqual(wrongly_moved, {}, "users of live servers that moved "
                                 "(from, to): count")
                # Consistent hashing hands a dead server's users to the others, not to one heir.
                heirs = {to for (_, to) in moved}
                self.assertGreaterEqual(len(heirs), 2, moved)

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
