"""Shared health between two real fulcrum instances through a real etcd (`health_sharing`).

Instance A runs with group id 65534 and an iptables rule drops every packet from that group to
backend `a`: a black hole that only A is behind, as when one proxy's own network path to a
server fails. A's checks take `a` down. With quorum 1, B takes `a` out too (from A's report
alone) and brings it back when A's view recovers, or when A dies and its lease runs out. With
quorum 2, B keeps sending to `a`: one instance's trouble stays local.

The rules need a network namespace of the test's own: run outside one, the test re-runs itself
inside `unshare --net` (as chaos.py does) and reports that run's result."""

import os
import subprocess
import sys
import time
import unittest

IN_NAMESPACE_ENV = "FULCRUM_HEALTH_SHARING_IN_NAMESPACE"
HERE = os.path.dirname(os.path.abspath(__file__))
NOBODY_GID = 65534
TTL_S = 2

if os.environ.get(IN_NAMESPACE_ENV) == "1":
    from admin_api import AdminClient, admin_port
    from etcd_server import start_etcd_for
    from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until

    class HealthSharingTest(ProxyTestCase):
        def setUp(self):
            super().setUp()
            self.etcd = start_etcd_for(self)
            self.a = self.start_backend("a")
            self.b = self.start_backend("b")

        def instance(self, name, quorum, black_holed=False, ttl_s=TTL_S):
            doc = config(
                [http_listener("web", "app")],
                [cluster("app", [self.a, self.b], panic_threshold=0, health_check={
                    "type": "tcp", "interval": "200ms", "fast_interval": "100ms",
                    "down_interval": "200ms", "timeout": "200ms", "rise": 2, "fall": 2})],
                admin={"listen": "127.0.0.1:0", "state_file": ""},
                access_log={"enabled": False},
                health_sharing={"etcd": [self.etcd.endpoint], "quorum": quorum,
                                "instance": name, "ttl": "%ds" % ttl_s})
            prefix = (["setpriv", "--regid=%d" % NOBODY_GID, "--clear-groups", "--"]
                      if black_holed else [])
            proxy = self.start_proxy(doc, command_prefix=prefix)
            return proxy, AdminClient(admin_port(proxy))

        def black_hole_a_for_nobody(self, action):
            subprocess.run(["iptables", action, "OUTPUT", "-p", "tcp", "-d", "127.0.0.1",
                            "--dport", str(self.a.port), "-m", "owner", "--gid-owner",
                            str(NOBODY_GID), "-j", "DROP"], check=True)

        def black_hole(self):
            self.black_hole_a_for_nobody("-A")
            # Gone already when the test lifted it: then -D fails, quietly.
            self.addCleanup(lambda: subprocess.run(
                ["iptables", "-D", "OUTPUT", "-p", "tcp", "-d", "127.0.0.1", "--dport",
                 str(self.a.port), "-m", "owner", "--gid-owner", str(NOBODY_GID), "-j", "DROP"],
                stderr=subprocess.DEVNULL))

        def lift_black_hole(self):
            self.black_hole_a_for_nobody("-D")

        @staticmethod
        def reason(api, address):
            server = api.server("app", address)
            return server and server["reason"]

        def wait_reason(self, api, address, expected, timeout=10):
            wait_until(lambda: self.reason(api, address) == expected, timeout, interval=0.05,
                       message="%s: %r (now %r)" % (address, expected, self.reason(api, address)))

        def served_by(self, proxy, count=8):
            seen = set()
            for _ in range(count):
                response = get(proxy.port("web"), "/")
                seen.add(response.header("x-backend") if response.status == 200
                         else response.status)
            return seen

        def both_instances(self, quorum, ttl_s=TTL_S):
            a_instance, a_api = self.instance("lb-a", quorum, black_holed=True, ttl_s=ttl_s)
            b_instance, b_api = self.instance("lb-b", quorum, ttl_s=ttl_s)
            for api in (a_api, b_api):
                for backend in (self.a, self.b):
                    self.wait_reason(api, backend.address, "eligible")
            # Each instance's view of each server is in etcd, under its name.
            for name in ("lb-a", "lb-b"):
                for backend in (self.a, self.b):
                    key = "/fulcrum/health/app/%s/%s" % (backend.address, name)
                    wait_until(lambda: key in self.etcd.get_prefix("/fulcrum/health/app/"), 10,
                               message="report " + key)
            return a_instance, a_api, b_instance, b_api

        def test_quorum_one_shares_one_instances_view(self):
            a_instance, a_api, b_instance, b_api = self.both_instances(quorum=1)
            self.assertEqual(self.served_by(b_instance), {"a", "b"})

            self.black_hole()
            self.wait_reason(a_api, self.a.address, "down by health checks")
            self.wait_reason(b_api, self.a.address,
                             "down by shared health (a quorum of instances)", timeout=10)
            shared = b_api.server("app", self.a.address)["health"]["shared"]
            self.assertEqual(shared, {"down_reports": 1, "down_by_peers": True})
            self.assertEqual(b_api.server("app", self.a.address)["health"]["checks"], "up",
                             "B's own checks still pass: the verdict is A's")
            self.assertEqual(self.served_by(b_instance), {"b"})
            key = "/fulcrum/health/app/%s/lb-a" % self.a.address
            self.assertIn('"state":"down"', self.etcd.get_prefix("/fulcrum/health/")[key][0])

            # A's view recovers: so does B's.
            self.lift_black_hole()
            self.wait_reason(b_api, self.a.address, "eligible", timeout=10)
            wait_until(lambda: self.served_by(b_instance) == {"a", "b"}, 10, interval=0.05,
                       message="B sends to a again")

            # A down again, then dead: its report leaves with its lease, and `a` is back at B.
            self.black_hole()
            self.wait_reason(b_api, self.a.address,
                             "down by shared health (a quorum of instances)", timeout=10)
            a_instance.kill()
            killed = time.monotonic()
            self.wait_reason(b_api, self.a.address, "eligible", timeout=TTL_S + 8)
            self.assertGreater(time.monotonic() - killed, 0.5,
                               "the report left before A's lease could expire")
            self.assertNotIn(key, self.etcd.get_prefix("/fulcrum/health/"))

        def test_quorum_two_keeps_one_instances_trouble_local(self):
            a_instance, a_api, b_instance, b_api = self.both_instances(quorum=2)
            self.black_hole()
            self.wait_reason(a_api, self.a.address, "down by health checks")
            # B sees A's report (1 instance), below the quorum: `a` stays in at B.
            wait_until(lambda: b_api.server("app", self.a.address)["health"]["shared"]
                       ["down_reports"] == 1, 10, interval=0.05, message="A's report at B")
            server = b_api.server("app", self.a.address)
            self.assertTrue(server["eligible"], server)
            self.assertFalse(server["health"]["shared"]["down_by_peers"])
            self.assertEqual(self.served_by(b_instance), {"a", "b"})
            # A itself does not send to a server its own checks find down.
            self.assertEqual(self.served_by(a_instance), {"b"})

        def test_shutdown_withdraws_the_reports_at_once(self):
            # A lease of 20 s: only the revoke can make the report leave within 10 s.
            a_instance, a_api, b_instance, b_api = self.both_instances(quorum=1, ttl_s=20)
            self.black_hole()
            self.wait_reason(b_api, self.a.address,
                             "down by shared health (a quorum of instances)", timeout=10)
            stopped = time.monotonic()
            a_instance.terminate()
            self.wait_reason(b_api, self.a.address, "eligible", timeout=10)
            self.assertLess(time.monotonic() - stopped, 10, "withdrawn before the lease TTL")
            self.assertIn("reports withdrawn", a_instance.stdout.text() + a_instance.stderr.text())

else:
    class HealthSharingInNamespace(unittest.TestCase):
        def test_in_a_network_namespace_of_its_own(self):
            command = ["unshare", "--net", "--", "sh", "-c",
                       'ip link set lo up && exec "$0" -m unittest -v test_health_sharing',
                       sys.executable]
            run = subprocess.run(command, cwd=HERE, env=dict(os.environ, **{IN_NAMESPACE_ENV: "1"}),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=150)
            output = run.stdout.decode("utf-8", "replace")
            sys.stdout.write(output)
            self.assertEqual(run.returncode, 0, output[-6000:])
            self.assertRegex(output, r"Ran 3 tests")


if __name__ == "__main__":
    unittest.main()
