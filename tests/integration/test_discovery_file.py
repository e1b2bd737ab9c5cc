"""`file` discovery: the cluster's servers come from a YAML file that the proxy re-reads when it
changes (inotify on its directory, so a rename over it counts). Adding, reweighting and removing
servers by rewriting the file moves traffic within a second; a broken or empty file keeps the
last good list."""

import os
import tempfile
import time
import unittest

from admin_api import AdminClient, admin_port
from harness import ProxyTestCase, config, get, http_listener, served, wait_until

FOLLOW_WITHIN = 1.0  # seconds from rewriting the file to traffic following it


class FileDiscoveryTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.a = self.start_backend("a")
        self.b = self.start_backend("b")
        self.dir = tempfile.TemporaryDirectory(prefix="fulcrum-file-discovery-")
        self.addCleanup(self.dir.cleanup)
        self.path = os.path.join(self.dir.name, "servers.yaml")
        self.write([(self.a, 1)])
        cluster = {"name": "api", "policy": "weighted_round_robin",
                   "discovery": {"type": "file", "path": self.path}}
        self.proxy = self.start_proxy(config([http_listener("web", "api")], [cluster],
                                             admin={"listen": "127.0.0.1:0"}))

    def write(self, servers, text=None):
        """servers: [(backend, weight)] or [(backend, weight, extra YAML keys)]."""
        """Replaces the file as editors do: write a temporary file, rename it over."""
        if text is None:
            text = "".join("- address: %s\n  weight: %d\n%s" % (s[0].address, s[1],
                                                                    "".join(s[2:]))
                           for s in servers) or "[]\n"
        temporary = self.path + ".tmp"
        with open(temporary, "w") as f:
            f.write(text)
        os.rename(temporary, self.path)

    def served(self, count):
        return served(self.proxy.port("web"), count)

    def logs(self):
        return self.proxy.logs()

    def follow(self, predicate, what):
        started = time.monotonic()
        wait_until(predicate, FOLLOW_WITHIN, interval=0.02, message=what)
        return time.monotonic() - started

    def test_add_reweight_and_remove_servers_by_rewriting_the_file(self):
        self.assertEqual(set(self.served(6)), {"a"})

        self.write([(self.a, 1), (self.b, 1)])
        self.follow(lambda: "b" in self.served(2), "requests to reach the added server b")

        self.write([(self.a, 3), (self.b, 1)])
        wait_until(lambda: "(0 added, 0 removed, 1 changed)" in self.logs(), FOLLOW_WITHIN,
                   message="the reweight to be published")
        picks = self.served(40)
        self.assertEqual(picks.count("a"), 30, picks)  # 3:1, exactly, with smooth WRR

        self.write([(self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"b"}, "traffic to leave the removed server a")
        self.assertEqual(set(self.served(10)), {"b"})

    def test_a_broken_file_keeps_the_last_good_list(self):
        self.write([(self.a, 1), (self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"a", "b"}, "both servers to serve")

        self.write(None, text="- address: %s\n  weight: lots\n" % self.b.address)
        wait_until(lambda: "servers.yaml:2:11:" in self.logs(), 5,
                   message="the parse error, with its position, in the log")
        self.assertEqual(set(self.served(6)), {"a", "b"})

        # An empty list is a valid file but an empty cluster: refused (allow_empty is off).
        self.write([])
        wait_until(lambda: "reports no servers; keeping the last good membership (2 servers)"
                   in self.logs(), 5, message="the empty list to be refused")
        self.assertEqual(set(self.served(6)), {"a", "b"})

        # A good file after the broken ones is followed again.
        self.write([(self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"b"}, "the next good file to be followed")

    def test_a_server_marked_draining_takes_no_new_requests(self):
        self.write([(self.a, 1), (self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"a", "b"}, "both servers to serve")
        self.write([(self.a, 1), (self.b, 1, "  drain: true\n")])
        self.follow(lambda: set(self.served(4)) == {"a"}, "b to stop taking new requests")
        api = AdminClient(admin_port(self.proxy))
        self.assertEqual(api.server("api", self.b.address)["admin_state"], "draining")
        self.write([(self.a, 1), (self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"a", "b"}, "b to serve again")

    def test_the_admin_api_refuses_membership_changes(self):
        api = AdminClient(admin_port(self.proxy))
        reply = api.call("POST", "/api/v1/clusters/api/servers", {"address": self.b.address})
        self.assertEqual(reply.status, 409, reply)
        self.assertIn("takes its membership from discovery", reply.body)
        path = "/api/v1/clusters/api/servers/" + self.a.address
        self.assertEqual(api.call("PATCH", path, {"weight": 5}).status, 409)
        self.assertEqual(api.call("DELETE", path).status, 409)
        self.assertEqual(set(self.served(4)), {"a"})
        # States still change: an operator may drain a discovered server.
        self.assertEqual(api.call("PATCH", path, {"state": "disable"}).status, 200)
        self.assertEqual(api.server("api", self.a.address)["admin_state"], "disabled")

    def test_without_a_first_membership_the_proxy_starts_after_5s_and_answers_503(self):
        missing = os.path.join(self.dir.name, "later.yaml")
        cluster = {"name": "late", "discovery": {"type": "file", "path": missing}}
        started = time.monotonic()
        proxy = self.start_proxy(config([http_listener("web", "late")], [cluster]),
                                 start_timeout=20)
        self.assertGreater(time.monotonic() - started, 4.5)  # waited for the first membership
        self.assertIn("no membership from discovery within 5000 ms",
                      proxy.stdout.text() + proxy.stderr.text())
        self.assertEqual(get(proxy.port("web"), "/").status, 503)
        with open(missing + ".tmp", "w") as f:
            f.write("- address: %s\n" % self.b.address)
        os.rename(missing + ".tmp", missing)
        wait_until(lambda: get(proxy.port("web"), "/").status == 200, FOLLOW_WITHIN,
                   interval=0.02, message="the file's server to serve")

    def test_the_membership_survives_a_reload(self):
        # A reload builds a new generation: the discovered cluster keeps its servers meanwhile.
        self.write([(self.b, 1)])
        self.follow(lambda: set(self.served(4)) == {"b"}, "the file to be followed")
        self.proxy.process.send_signal(1)  # SIGHUP
        wait_until(lambda: "reloaded" in self.logs(), 10, message="the reload")
        self.assertEqual(set(self.served(10)), {"b"})
        self.write([(self.a, 1)])
        self.follow(lambda: set(self.served(4)) == {"a"},
                    "the new generation's source to follow the file")


if __name__ == "__main__":
    unittest.main()
