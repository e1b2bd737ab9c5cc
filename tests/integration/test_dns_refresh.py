"""Server names are re-resolved while the proxy runs: when a name moves to another address, new
requests follow it without a restart, and a lookup that fails keeps the last good address.

The proxy runs in a private mount namespace (unshare -m) whose /etc/hosts is a file this test
owns, so the test changes what the name resolves to without touching the machine's resolver."""

import os
import tempfile
import unittest

from harness import ProxyTestCase, config, get, http_listener, wait_until

NAME = "moving-backend.fulcrum.test"


class DnsRefreshTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self.old = self.start_backend("old", host="127.0.0.2")
        # Same port on another loopback address: only the name's address changes.
        self.new = self.start_backend("new", host="127.0.0.3", port=self.old.port)
        self.hosts_dir = tempfile.TemporaryDirectory(prefix="fulcrum-hosts-")
        self.addCleanup(self.hosts_dir.cleanup)
        self.hosts = os.path.join(self.hosts_dir.name, "hosts")
        self.point_name_at("127.0.0.2")
        wrapper = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
                   self.hosts]
        cluster = {"name": "moving", "policy": "round_robin",
                   "servers": [{"address": "%s:%d" % (NAME, self.old.port)}],
                   "passive": {"attempts": 3, "offline_timeout": "1s"}}
        self.proxy = self.start_proxy(
            config([http_listener("web", "moving")], [cluster], dns_refresh="200ms"),
            command_prefix=wrapper)

    def point_name_at(self, address):
        # Rewritten in place: the bind mount follows the inode, not the name.
        with open(self.hosts, "w") as f:
            f.write("127.0.0.1 localhost\n%s %s\n" % (address, NAME) if address else
                    "127.0.0.1 localhost\n")

    def served_by(self):
        response = get(self.proxy.port("web"), "/")
        self.assertEqual(response.status, 200, response)
        return response.header("x-backend")

    def test_requests_follow_the_name_to_its_new_address(self):
        self.assertEqual(self.served_by(), "old")
        self.point_name_at("127.0.0.3")
        wait_until(lambda: self.served_by() == "new", 10, interval=0.05,
                   message="requests to reach the name's new address")
        # Once moved, every request goes to the new address.
        self.assertEqual({self.served_by() for _ in range(10)}, {"new"})
        self.assertIn("now resolves to 127.0.0.3", self.proxy.stdout.text() +
                      self.proxy.stderr.text())

    def test_a_failed_lookup_keeps_the_last_good_address(self):
        self.assertEqual(self.served_by(), "old")
        self.point_name_at(None)
        wait_until(
            lambda: "cannot re-resolve" in self.proxy.stdout.text() + self.proxy.stderr.text(),
            10, message="a logged lookup failure")
        self.assertEqual({self.served_by() for _ in range(10)}, {"old"})


if __name__ == "__main__":
    unittest.main()
