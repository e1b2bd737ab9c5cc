"""Every balancing policy in front of three real backends, through one proxy with a listener per
policy: all requests succeed; spreading policies reach all three servers, first_available only
the first, and the consistent-hash policies keep each user on one server."""

import collections
import http.client
import unittest

from harness import ProxyTestCase, cluster, config, http_listener

SPREADING = ["round_robin", "weighted_round_robin", "least_connections", "random",
             "power_of_two", "least_latency", "agent"]
HASHING = ["ring_hash", "maglev"]
REQUESTS = 60


class BalancingTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.backends = [self.start_backend(name) for name in ("b1", "b2", "b3")]
        policies = SPREADING + HASHING + ["first_available"]
        clusters = []
        for policy in policies:
            extra = {"hash_key": "header:X-User"} if policy in HASHING else {}
            clusters.append(cluster("c-" + policy, self.backends, policy=policy, **extra))
        listeners = [http_listener(policy, "c-" + policy) for policy in policies]
        self.proxy = self.start_proxy(config(listeners, clusters))

    def send(self, policy, count, headers_for=lambda i: {}):
        """`count` GETs on one keep-alive connection; returns the X-Backend of each answer."""
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port(policy), timeout=10)
        self.addCleanup(conn.close)
        seen = []
        for i in range(count):
            conn.request("GET", "/item/%d" % i, headers=headers_for(i))
            response = conn.getresponse()
            body = response.read()
            self.assertEqual(response.status, 200, "%s request %d: %r" % (policy, i, body))
            backend = response.getheader("X-Backend")
            self.assertEqual(body, b"backend %s\n" % backend.encode())
            seen.append(backend)
        return seen

    def test_spreading_policies_reach_every_backend(self):
        for policy in SPREADING:
            with self.subTest(policy=policy):
                counts = collections.Counter(self.send(policy, REQUESTS))
                self.assertEqual(set(counts), {"b1", "b2", "b3"}, counts)

    def test_round_robin_rotates_evenly(self):
        for policy in ("round_robin", "weighted_round_robin"):
            with self.subTest(policy=policy):
                seen = self.send(policy, 30)
                # Equal weights, one request at a time: every window of three is a full cycle.
                for i in range(0, 30, 3):
                    self.assertEqual(sorted(seen[i:i + 3]), ["b1", "b2", "b3"], seen)

    def test_first_available_uses_only_the_first(self):
        seen = self.send("first_available", 30)
        self.assertEqual(set(seen), {"b1"})

    def test_hash_policies_keep_users_on_one_backend(self):
        users = ["user-%d" % i for i in range(30)]
        for policy in HASHING:
            with self.subTest(policy=policy):
                # Three rounds over all users, interleaved, on one connection.
                seen = self.send(policy, 3 * len(users),
                                 lambda i: {"X-User": users[i % len(users)]})
                by_user = collections.defaultdict(set)
                for i, backend in enumerate(seen):
                    by_user[users[i % len(users)]].add(backend)
                for user, backends in by_user.items():
                    self.assertEqual(len(backends), 1, "%s went to %s" % (user, backends))
                # 30 keys over 3 equal servers: all on one server would mean the key is ignored.
                self.assertGreaterEqual(len(set(seen)), 2, collections.Counter(seen))

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
