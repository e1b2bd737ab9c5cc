"""GET /api/v1/explain on the real binary: the route and cluster a request takes, and for each
ineligibility reason that can be produced from outside (disabled, draining, offline by passive
tracking, at max connections) the reason and, where it has one, the time it ends."""

import datetime
import socket
import threading
import unittest

from admin_api import AdminClient, admin_port
from harness import ProxyTestCase, cluster, config, get, wait_until


def closed_port():
    """A port nothing listens on: bound, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def by_address(body):
    return {server["address"]: server for server in body["servers"]}


class Explain(ProxyTestCase):
    def test_each_reason_with_route_cluster_and_times(self):
        ok = self.start_backend("ok")
        disabled = self.start_backend("disabled")
        draining = self.start_backend("draining")
        limited = self.start_backend("limited")
        dead = "127.0.0.1:%d" % closed_port()
        web = cluster("web", [ok, disabled, draining, dead],
                      passive={"attempts": 1, "offline_timeout": "60s"}, panic_threshold=0)
        limits = cluster("limited", [limited], limits={"max_connections_per_server": 1})
        listener = {"name": "web", "listen": "127.0.0.1:0", "mode": "http",
                    "routes": [{"match": {"path_prefix": "/slow"}, "cluster": "limited"},
                               {"cluster": "web"}]}
        proxy = self.start_proxy(config([listener], [web, limits],
                                        admin={"listen": "127.0.0.1:0"}))
        api = AdminClient(admin_port(proxy))
        port = proxy.port("web")

        for backend, state in ((disabled, "disable"), (draining, "drain")):
            reply = api.call("PATCH", "/api/v1/clusters/web/servers/" + backend.address,
                             {"state": state})
            self.assertEqual(reply.status, 200, reply)
        # Requests until one has tried the dead server: refused once, it goes offline.
        wait_until(lambda: get(port, "/").status == 200 and
                   api.server("web", dead)["health"]["passive"]["offline"], 10,
                   message="the dead server to go offline")

        body = api.get("/api/v1/explain?listener=web&host=shop.example&path=/cart").json()
        self.assertEqual(body["cluster"], "web")
        self.assertEqual(body["route"], {"index": 1, "host": None, "path_prefix": ""})
        servers = by_address(body)
        self.assertEqual(servers[ok.address]["eligible"], True)
        self.assertEqual(servers[ok.address]["reason"], "eligible")
        self.assertEqual(servers[disabled.address]["reason"], "disabled")
        self.assertEqual(servers[draining.address]["reason"], "draining")
        offline = servers[dead]
        self.assertFalse(offline["eligible"])
        self.assertEqual(offline["reason"], "offline (passive tracking)")
        until = datetime.datetime.fromisoformat(offline["until"].replace("Z", "+00:00"))
        left = (until - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        self.assertGreater(left, 40)
        self.assertLessEqual(left, 60)
        self.assertIn("1 consecutive failures counted by passive tracking", offline["detail"])
        self.assertEqual(body["result"], "1 primary server(s) eligible; round_robin picks among them")
        # Admin states carry the time they began, once the admin thread has sampled them.
        wait_until(lambda: "since" in by_address(
            api.get("/api/v1/explain?listener=web").json())[disabled.address], 5,
            message="'since' for the disabled server")

        # A slow request holds the only connection the limited server may have.
        slow = threading.Thread(target=get, args=(port, "/slow/3000"), daemon=True)
        slow.start()
        at_limit = wait_until(
            lambda: (lambda s: s if not s["eligible"] else None)(
                by_address(api.get("/api/v1/explain?listener=web&path=/slow/x").json())
                [limited.address]), 5, message="the limited server at its limit")
        self.assertEqual(at_limit["reason"], "at max connections (1 of 1)")
        body = api.get("/api/v1/explain?listener=web&path=/slow/x").json()
        self.assertEqual(body["cluster"], "limited")
        self.assertEqual(body["route"]["path_prefix"], "/slow")
        self.assertEqual(get(port, "/slow/1").status, 503, "what explain predicted")
        slow.join(10)

        unknown = api.get("/api/v1/explain?listener=nope")
        self.assertEqual(unknown.status, 404)
        self.assertEqual(unknown.json()["error"], "no listener named 'nope' (listeners: web)")
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
