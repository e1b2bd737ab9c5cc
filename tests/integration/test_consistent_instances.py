"""Several fulcrum instances in front of one membership pick the same server for the same key with
maglev and ring_hash: their tables depend on the set of (address, weight), not on the order the
servers were listed or arrived in. Two real instances list the same five servers in different
orders; every key goes to the same backend through both, before and after one server is removed
through each instance's admin API (in different order too)."""

import unittest

from admin_api import AdminClient, admin_port
from harness import ProxyTestCase, config, picks_by_key

KEYS = ["user-%d" % i for i in range(120)]


class ConsistentInstancesTest(ProxyTestCase):
    def instance(self, backends, order):
        servers = [{"address": backends[i].address, "weight": 2 if i == 1 else 1} for i in order]
        clusters = [{"name": policy, "policy": policy, "hash_key": "header:X-User",
                     "servers": servers} for policy in ("maglev", "ring_hash")]
        listener = {"name": "web", "listen": "127.0.0.1:0", "mode": "http",
                    "routes": [{"match": {"path_prefix": "/maglev"}, "cluster": "maglev"},
                               {"cluster": "ring_hash"}]}
        proxy = self.start_proxy(config([listener], clusters, admin={"listen": "127.0.0.1:0"},
                                        access_log={"enabled": False}))
        return proxy, AdminClient(admin_port(proxy))

    def picks(self, proxy, path):
        return picks_by_key(proxy.port("web"), path, KEYS)

    def test_same_key_same_server_through_both_instances(self):
        backends = [self.start_backend("b%d" % i) for i in range(5)]
        first, first_api = self.instance(backends, [0, 1, 2, 3, 4])
        second, second_api = self.instance(backends, [3, 1, 4, 0, 2])

        for path in ("/maglev/x", "/ring/x"):
            through_first = self.picks(first, path)
            self.assertEqual(through_first, self.picks(second, path), path)
            # The keys do spread: this is not one server answering everything.
            self.assertGreaterEqual(len(set(through_first.values())), 4, through_first)

        # Membership changes reach each instance separately; once both agree, so do the picks.
        gone = backends[2].address
        for api in (second_api, first_api):
            for cluster in ("ring_hash", "maglev"):
                reply = api.call("DELETE", "/api/v1/clusters/%s/servers/%s?wait=true"
                                 % (cluster, gone))
                self.assertEqual(reply.status, 200, reply)
        for path in ("/maglev/x", "/ring/x"):
            through_first = self.picks(first, path)
            self.assertNotIn("b2", through_first.values())
            self.assertEqual(through_first, self.picks(second, path), path)


if __name__ == "__main__":
    unittest.main()
