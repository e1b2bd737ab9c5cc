"""`dns` discovery against a real DNS server (dnsmasq on a loopback port): SRV records become the
cluster's servers (lowest priority primary, higher ones backup), traffic follows the records when
they change, answers are kept for their TTL clamped to [min_ttl, max_ttl], and a resolver that
stops answering keeps the last good membership."""

import os
import re
import signal
import socket
import subprocess
import time
import unittest

from harness import OutputCollector, ProxyTestCase, config, http_listener, served, wait_until

SRV_NAME = "_http._tcp.api.fulcrum.test"


def free_dns_port():
    """A port free for both UDP and TCP (dnsmasq listens on both)."""
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            udp.close()
            tcp.close()
    raise AssertionError("no free port for dnsmasq")


class Dnsmasq:
    """dnsmasq serving only the records given, logging every query to stderr."""

    def __init__(self, port, ttl, srv, hosts):
        """srv: [(target, port, priority, weight)]; hosts: [(name, ip)]."""
        args = ["dnsmasq", "-d", "-k", "--port=%d" % port, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts", "-C", "/dev/null",
                "--log-queries", "--log-facility=-", "--local-ttl=%d" % ttl,
                "--pid-file=", "--user=root"]
        args += ["--srv-host=%s,%s,%d,%d,%d" % (SRV_NAME, t, p, pri, w) for t, p, pri, w in srv]
        args += ["--host-record=%s,%s" % (name, ip) for name, ip in hosts]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.output = OutputCollector(self.process.stdout, "dnsmasq")
        self.output.wait_for(lambda lines: any("started" in l for _, l in lines) or
                             self.process.poll() is not None, 10, "dnsmasq to start")
        if self.process.poll() is not None:
            raise AssertionError("dnsmasq exited:\n" + self.output.text())

    def srv_query_times(self):
        return [t for t, line in self.output.lines()
                if "query[SRV] %s" % SRV_NAME in line]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(5)
        self.output.join()


class DnsDiscoveryTest(ProxyTestCase):
    def start_dns(self, ttl, srv, hosts=None):
        hosts = hosts or [("a.fulcrum.test", "127.0.0.1"), ("b.fulcrum.test", "127.0.0.1"),
                          ("c.fulcrum.test", "127.0.0.1")]
        if getattr(self, "dns", None):
            self.dns.stop()
        self.dns = Dnsmasq(self.dns_port, ttl, srv, hosts)
        self.addCleanup(self.dns.stop)
        self._outputs.append(lambda dns=self.dns: "--- dnsmasq ---\n" + dns.output.text())
        return self.dns

    def setUp(self):
        super().setUp()
        self.dns = None
        self.dns_port = free_dns_port()
        self.a = self.start_backend("a")
        self.b = self.start_backend("b")
        self.c = self.start_backend("c")

    def start(self, min_ttl="1s", max_ttl="5m"):
        cluster = {"name": "api", "policy": "round_robin",
                   "discovery": {"type": "dns", "name": SRV_NAME,
                                 "resolvers": ["127.0.0.1:%d" % self.dns_port],
                                 "min_ttl": min_ttl, "max_ttl": max_ttl},
                   "passive": {"attempts": 1, "offline_timeout": "30s"}}
        self.proxy = self.start_proxy(config([http_listener("web", "api")], [cluster]))

    def served(self, count):
        return served(self.proxy.port("web"), count)

    def logs(self):
        return self.proxy.logs()

    def test_srv_records_become_servers_and_traffic_follows_changes(self):
        # a and b at priority 10: primaries; c at priority 20: backup, unused while they serve.
        self.start_dns(1, [("a.fulcrum.test", self.a.port, 10, 1),
                           ("b.fulcrum.test", self.b.port, 10, 1),
                           ("c.fulcrum.test", self.c.port, 20, 1)])
        self.start()
        self.assertIn("3 servers from dns %s" % SRV_NAME, self.logs())
        self.assertEqual(set(self.served(10)), {"a", "b"})

        # The zone changes: b leaves, c becomes a primary. Traffic follows within the TTL.
        self.start_dns(1, [("a.fulcrum.test", self.a.port, 10, 1),
                           ("c.fulcrum.test", self.c.port, 10, 1)])
        wait_until(lambda: set(self.served(4)) == {"a", "c"}, 10, interval=0.05,
                   message="traffic to follow the new SRV records")
        self.assertEqual(set(self.served(10)), {"a", "c"})

    def test_a_dead_resolver_keeps_the_last_good_membership(self):
        self.start_dns(1, [("a.fulcrum.test", self.a.port, 10, 1),
                           ("b.fulcrum.test", self.b.port, 10, 1)])
        self.start()
        self.assertEqual(set(self.served(6)), {"a", "b"})
        self.dns.stop()
        wait_until(lambda: "lookup failed" in self.logs(), 10,
                   message="a logged lookup failure")
        self.assertIn("keeping the last good answer (2 servers)", self.logs())
        self.assertEqual(set(self.served(10)), {"a", "b"})
        # The resolver comes back with other records: followed again.
        self.start_dns(1, [("c.fulcrum.test", self.c.port, 10, 1)])
        wait_until(lambda: set(self.served(4)) == {"c"}, 10, interval=0.05,
                   message="traffic to follow the resolver once it answers again")

    def test_a_host_name_and_port_give_one_server_per_address(self):
        x = self.start_backend("x", host="127.0.0.2")
        y = self.start_backend("y", host="127.0.0.3", port=x.port)
        self.start_dns(1, [], hosts=[("api.fulcrum.test", "127.0.0.2")])
        cluster = {"name": "api", "policy": "round_robin",
                   "discovery": {"type": "dns", "name": "api.fulcrum.test", "port": x.port,
                                 "resolvers": ["127.0.0.1:%d" % self.dns_port]}}
        self.proxy = self.start_proxy(config([http_listener("web", "api")], [cluster]))
        self.assertEqual(set(self.served(4)), {"x"})
        self.start_dns(1, [], hosts=[("api.fulcrum.test", "127.0.0.2"),
                                     ("api.fulcrum.test", "127.0.0.3")])
        wait_until(lambda: set(self.served(4)) == {"x", "y"}, 10, interval=0.05,
                   message="both addresses of the name to serve")

    def query_intervals(self, count):
        times = wait_until(lambda: len(self.dns.srv_query_times()) >= count and
                           self.dns.srv_query_times(), 20,
                           message="%d SRV queries" % count)
        return [b - a for a, b in zip(times, times[1:])][:count - 1]

    def test_the_ttl_decides_when_to_look_up_again(self):
        self.start_dns(3, [("a.fulcrum.test", self.a.port, 10, 1)])
        self.start(min_ttl="1s", max_ttl="1m")
        intervals = self.query_intervals(3)
        for interval in intervals:  # every 3 s (the record's TTL), not every min_ttl
            self.assertGreater(interval, 2.7, intervals)
            self.assertLess(interval, 4.5, intervals)

    def test_max_ttl_caps_a_long_ttl(self):
        self.start_dns(3600, [("a.fulcrum.test", self.a.port, 10, 1)])
        self.start(min_ttl="1s", max_ttl="1s")
        intervals = self.query_intervals(4)
        for interval in intervals:
            self.assertGreater(interval, 0.8, intervals)
            self.assertLess(interval, 2.0, intervals)


if __name__ == "__main__":
    unittest.main()
