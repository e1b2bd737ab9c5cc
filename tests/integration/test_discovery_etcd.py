"""etcd discovery end to end: the real fulcrum binary watches a prefix of a real etcd, and the
real fulcrum-agent registers backends there. Traffic follows the keys (added, reweighted to 0,
removed); a SIGKILLed agent's server leaves when its lease expires; SIGTERM makes an agent leave
at once, or first drain with --drain-on-exit.

Needs the etcd server binary (apt-get install etcd-server); fulcrum-agent comes from
$FULCRUM_AGENT_BIN or beside $FULCRUM_BIN."""

import re
import signal
import subprocess
import time
import unittest

from etcd_server import start_etcd_for
from harness import (OutputCollector, ProxyTestCase, config, get, http_listener, picks_by_key,
                     wait_until)
from test_fulcrum_agent import agent_bin

PREFIX = "/fulcrum/api/"
LISTENING = re.compile(r"^listening on (\S+):(\d+)$")


class EtcdDiscoveryTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.etcd = start_etcd_for(self)
        self.a = self.start_backend("a")
        self.b = self.start_backend("b")

    def start_discovering_proxy(self):
        cluster = {"name": "api", "policy": "round_robin",
                   "discovery": {"type": "etcd", "endpoints": [self.etcd.endpoint],
                                 "prefix": PREFIX},
                   "passive": {"attempts": 3, "offline_timeout": "1s"}}
        self.proxy = self.start_proxy(config([http_listener("web", "api")], [cluster]))

    def served_by(self, count=8):
        """The backends that answered `count` requests through the proxy."""
        seen = set()
        for _ in range(count):
            response = get(self.proxy.port("web"), "/")
            if response.status == 200:
                seen.add(response.header("x-backend"))
            else:
                seen.add(response.status)
        return seen

    def wait_served_by(self, expected, timeout=5):
        wait_until(lambda: self.served_by() == expected, timeout, interval=0.05,
                   message="requests served by exactly %s" % sorted(expected))

    def start_agent(self, backend, *args):
        process = subprocess.Popen(
            [agent_bin(), "--listen", "127.0.0.1:0",
             "--register", "etcd://%s%s" % (self.etcd.endpoint, PREFIX.rstrip("/")),
             "--advertise", backend.address, *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout = OutputCollector(process.stdout, "fulcrum-agent stdout")
        stderr = OutputCollector(process.stderr, "fulcrum-agent stderr")

        def stop():
            if process.poll() is None:
                process.kill()
            process.wait(5)
        self.addCleanup(stop)
        self._outputs.append(lambda: "--- fulcrum-agent %s ---\n%s\n%s"
                             % (backend.id, stdout.text(), stderr.text()))
        stdout.wait_for(lambda lines: any(LISTENING.match(l) for _, l in lines), 10,
                        "listening line")
        stderr.wait_for(lambda lines: any("registered " + PREFIX in l for _, l in lines), 10,
                        "registration")
        return process, stderr

    def test_traffic_follows_the_keys(self):
        self.etcd.put(PREFIX + self.a.address, '{"weight": 1}')
        self.start_discovering_proxy()
        self.wait_served_by({"a"})
        self.etcd.put(PREFIX + self.b.address, "")
        self.wait_served_by({"a", "b"})
        self.etcd.put(PREFIX + self.a.address, '{"weight": 0}')  # Weight 0: no new requests.
        self.wait_served_by({"b"})
        self.etcd.put(PREFIX + self.a.address, '{"weight": 1}')
        self.wait_served_by({"a", "b"})
        self.etcd.delete(PREFIX + self.b.address)
        self.wait_served_by({"a"})
        # A malformed value leaves that key out and the rest alone.
        self.etcd.put(PREFIX + self.b.address, "weight=3")
        wait_until(lambda: "the key is skipped" in self.proxy.stdout.text() +
                   self.proxy.stderr.text(), 5, message="the malformed value's warning")
        self.assertEqual(self.served_by(), {"a"})

    def test_a_killed_agents_server_leaves_when_its_lease_expires(self):
        agent, _ = self.start_agent(self.a, "--register-ttl", "2s")
        self.start_agent(self.b)
        key = PREFIX + self.a.address
        self.assertEqual(self.etcd.get_prefix(PREFIX)[key][0], '{"weight":1}')
        self.start_discovering_proxy()
        self.wait_served_by({"a", "b"})
        agent.kill()
        killed = time.monotonic()
        # The lease is kept alive every TTL/3, so it runs out 1.3-2 s after the kill (plus up
        # to etcd's 0.5 s expiry sweep and the watch's delivery).
        self.wait_served_by({"b"}, timeout=6)
        self.assertGreater(time.monotonic() - killed, 1.0, "left before the lease expired")
        self.assertNotIn(key, self.etcd.get_prefix(PREFIX))

    def test_sigterm_without_drain_leaves_at_once(self):
        agent, _ = self.start_agent(self.a)  # TTL 10 s: only the revoke can be this quick.
        self.start_agent(self.b)
        self.start_discovering_proxy()
        self.wait_served_by({"a", "b"})
        agent.send_signal(signal.SIGTERM)
        self.assertEqual(agent.wait(5), 0)
        self.assertNotIn(PREFIX + self.a.address, self.etcd.get_prefix(PREFIX))
        self.wait_served_by({"b"}, timeout=2)

    def test_drain_on_exit_drains_then_leaves(self):
        agent, stderr = self.start_agent(self.a, "--drain-on-exit", "--drain-wait", "3s")
        self.start_agent(self.b, "--weight", "2")
        self.assertEqual(self.etcd.get_prefix(PREFIX)[PREFIX + self.b.address][0],
                         '{"weight":2}')
        self.start_discovering_proxy()
        self.wait_served_by({"a", "b"})
        agent.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # Draining: still registered (marked so), no new requests, the agent still running.
        wait_until(lambda: self.etcd.get_prefix(PREFIX).get(PREFIX + self.a.address, ("",))[0]
                   == '{"weight":1,"drain":true}', 2, message="the drain in etcd")
        self.wait_served_by({"b"}, timeout=2)
        self.assertIsNone(agent.poll(), "the agent left before the drain wait ended")
        self.assertIn("draining for 3000 ms", stderr.text())
        # Then it leaves.
        self.assertEqual(agent.wait(10), 0)
        self.assertGreater(time.monotonic() - signalled, 2.5)
        self.assertNotIn(PREFIX + self.a.address, self.etcd.get_prefix(PREFIX))
        self.assertEqual(self.served_by(), {"b"})

    def test_two_instances_on_one_etcd_pick_the_same_server_per_key(self):
        backends = [self.a, self.b] + [self.start_backend("b%d" % i) for i in range(3)]
        # Written in one order; each instance reads the same membership from the same prefix.
        for i, backend in enumerate(reversed(backends)):
            self.etcd.put(PREFIX + backend.address, '{"weight": %d}' % (2 if i == 1 else 1))
        clusters = [{"name": policy, "policy": policy, "hash_key": "header:X-User",
                     "discovery": {"type": "etcd", "endpoints": [self.etcd.endpoint],
                                   "prefix": PREFIX}} for policy in ("maglev", "ring_hash")]
        listener = {"name": "web", "listen": "127.0.0.1:0", "mode": "http",
                    "routes": [{"match": {"path_prefix": "/maglev"}, "cluster": "maglev"},
                               {"cluster": "ring_hash"}]}
        instances = [self.start_proxy(config([listener], clusters, access_log={"enabled": False}))
                     for _ in range(2)]
        keys = ["user-%d" % i for i in range(100)]

        def picks(proxy, path):
            return picks_by_key(proxy.port("web"), path, keys)

        for path in ("/maglev/x", "/ring/x"):
            first = picks(instances[0], path)
            self.assertEqual(first, picks(instances[1], path), path)
            self.assertGreaterEqual(len(set(first.values())), 4, first)
        # A key removed in etcd reaches both; once both follow, they agree again.
        self.etcd.delete(PREFIX + backends[2].address)
        for path in ("/maglev/x", "/ring/x"):
            for proxy in instances:
                wait_until(lambda: backends[2].id not in picks(proxy, path).values(), 5,
                           interval=0.05, message="%s without %s" % (path, backends[2].id))
            self.assertEqual(picks(instances[0], path), picks(instances[1], path), path)


if __name__ == "__main__":
    unittest.main()
