"""Runtime server changes through the admin API while the proxy is under load: add, reweight,
drain and delete, with zero failed requests, a drained server receiving nothing new, and every
change logged with its origin."""

import threading
import unittest

from admin_api import AdminClient, Load, admin_port
from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until


class RuntimeChangesUnderLoad(ProxyTestCase):
    def test_add_reweight_drain_and_delete_under_load(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        b3 = self.start_backend("b3")
        proxy = self.start_proxy(config(
            [http_listener("web", "web")],
            [cluster("web", [b1, b2], policy="weighted_round_robin")],
            admin={"listen": "127.0.0.1:0"},
            access_log={"enabled": False}))
        api = AdminClient(admin_port(proxy))
        load = Load(proxy.port("web")).start()
        self.addCleanup(load.stop)
        load.wait_for_more(50)

        # Add: the new server takes requests from every worker.
        reply = api.call("POST", "/api/v1/clusters/web/servers",
                         {"address": b3.address, "weight": 1})
        self.assertEqual(reply.status, 201, reply)
        wait_until(lambda: len(b3.requests()) >= 20, 10, message="b3 receiving requests")

        # Reweight: b1 at 4 against 1 and 1 takes about two thirds of what follows.
        reply = api.call("PATCH", "/api/v1/clusters/web/servers/" + b1.address, {"weight": 4})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["weight"]["configured"], 4)
        for b in (b1, b2, b3):
            b.sync()
        before = {b.id: len(b.requests()) for b in (b1, b2, b3)}
        load.wait_for_more(600)
        for b in (b1, b2, b3):
            b.sync()
        grown = {b.id: len(b.requests()) - before[b.id] - 1 for b in (b1, b2, b3)}
        share = grown["b1"] / sum(grown.values())
        self.assertGreater(share, 0.55, grown)
        self.assertLess(share, 0.80, grown)

        # Drain: once what b2 was already serving has finished, b2 receives nothing new.
        reply = api.call("PATCH", "/api/v1/clusters/web/servers/" + b2.address,
                         {"state": "drain"})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["admin_state"], "draining")
        wait_until(lambda: api.server("web", b2.address)["in_flight"] == 0, 5,
                   message="b2's requests in flight to finish")
        b2.sync()
        drained_at = len(b2.requests())
        load.wait_for_more(300)
        b2.sync()
        self.assertEqual(len(b2.requests()), drained_at + 1, "only the sync marker reached b2")

        # Delete with wait: b1 drains, then leaves the cluster; nothing reaches it afterwards.
        reply = api.call("DELETE", "/api/v1/clusters/web/servers/%s?wait=true" % b1.address)
        self.assertEqual(reply.status, 200, reply)
        self.assertTrue(reply.json()["removed"])
        listed = [s["address"] for s in api.get("/api/v1/clusters/web").json()["servers"]]
        self.assertEqual(listed, [b2.address, b3.address])
        b1.sync()
        removed_at = len(b1.requests())
        load.wait_for_more(300)
        b1.sync()
        self.assertEqual(len(b1.requests()), removed_at + 1)

        ok, failures = load.stop()
        self.assertEqual(failures, [], "failed requests during the changes")
        self.assertGreater(ok, 1200)
        # Rates are visible once the admin thread has two samples.
        self.assertGreaterEqual(api.server("web", b3.address)["requests_total"], 300)

        log = proxy.stdout.text()
        for expected in ("server %s added to cluster 'web' (weight 1) by 127.0.0.1:" % b3.address,
                         "server %s of cluster 'web' weight 1 -> 4 by 127.0.0.1:" % b1.address,
                         "server %s of cluster 'web' enabled -> draining by 127.0.0.1:"
                         % b2.address,
                         "server %s removed from cluster 'web' after draining" % b1.address):
            self.assertIn(expected, log)
        self.assertIn("(loopback)", log)
        self.stop_proxy(proxy)

    def test_delete_of_a_busy_server_answers_202_then_removes_it(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        proxy = self.start_proxy(config(
            [http_listener("web", "web")],
            [cluster("web", [b1, b2])],
            admin={"listen": "127.0.0.1:0"}))
        api = AdminClient(admin_port(proxy))
        # A slow request holds a connection to one of the servers.
        slow = threading.Thread(target=get, args=(proxy.port("web"), "/slow/1500"), daemon=True)
        slow.start()
        busy = wait_until(
            lambda: next((s for s in api.get("/api/v1/clusters/web").json()["servers"]
                          if s["in_flight"] > 0), None), 5, message="a server in flight")
        reply = api.call("DELETE", "/api/v1/clusters/web/servers/" + busy["address"])
        self.assertEqual(reply.status, 202, reply)
        self.assertEqual(reply.json()["state"], "draining")
        self.assertTrue(api.server("web", busy["address"])["removal_pending"])
        wait_until(lambda: api.server("web", busy["address"]) is None, 10,
                   message="the server to leave once its request finished")
        slow.join(10)
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
