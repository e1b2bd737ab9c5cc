"""etcd over TLS with client certificates (--client-cert-auth) and authentication (a user and
simple tokens that expire after a second unused), end to end with the real fulcrum,
fulcrum-agent and etcd: etcd discovery, health_sharing and fulcrum-agent --register all work
through it; a wrong password or a missing client certificate is logged plainly and nothing is
discovered; an expired token is replaced by authenticating again.

Needs the etcd server and etcdctl (apt-get install etcd-server etcd-client)."""

import os
import re
import signal
import subprocess
import tempfile
import unittest

from etcd_server import start_etcd_for
from harness import (OutputCollector, ProxyTestCase, config, get, http_listener, wait_until)
from test_fulcrum_agent import agent_bin

PREFIX = "/fulcrum/api/"
PASSWORD = "correct horse"
LISTENING = re.compile(r"^listening on (\S+):(\d+)$")


def setUpModule():
    global CERTS, _certs_dir
    tool = os.environ.get("FULCRUM_TEST_CERTS")
    if not tool or not os.access(tool, os.X_OK):
        raise RuntimeError("set FULCRUM_TEST_CERTS to fulcrum-test-certs (ctest does this)")
    _certs_dir = tempfile.TemporaryDirectory(prefix="fulcrum-etcd-certs-")
    CERTS = _certs_dir.name
    # etcd's certificate, and the clients' (signed by the same CA, which etcd trusts).
    subprocess.run([tool, CERTS, "etcd=localhost,127.0.0.1",
                    "client=fulcrum-client,!no-cn"],
                   check=True, timeout=30)


def tearDownModule():
    _certs_dir.cleanup()


def certs(stem):
    return os.path.join(CERTS, stem + ".pem"), os.path.join(CERTS, stem + ".key")


class EtcdTlsAuthTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        cert, key = certs("etcd")
        client_cert, client_key = certs("client")
        self.etcd = start_etcd_for(self, tls={"ca": certs("ca")[0], "cert": cert, "key": key,
                                              "client_cert": client_cert,
                                              "client_key": client_key},
                                   client_cert_auth=True, auth_token_ttl=1)
        self.etcd.enable_auth(PASSWORD)
        self.files = tempfile.TemporaryDirectory(prefix="fulcrum-etcd-auth-")
        self.addCleanup(self.files.cleanup)
        self.a = self.start_backend("a")

    def password_file(self, password=PASSWORD):
        path = os.path.join(self.files.name, "password")
        with open(path, "w") as f:
            f.write(password + "\n")
        return path

    def tls(self, client_certificate=True):
        section = {"ca_file": certs("ca")[0]}
        if client_certificate:
            section["cert"], section["key"] = certs("client")
        return section

    def discovering_proxy(self, password=PASSWORD, client_certificate=True):
        cluster = {"name": "api", "policy": "round_robin",
                   "discovery": {"type": "etcd", "endpoints": [self.etcd.url], "prefix": PREFIX,
                                 "allow_empty": True,
                                 "tls": self.tls(client_certificate),
                                 "auth": {"username": "root",
                                          "password_file": self.password_file(password)}}}
        return self.start_proxy(config([http_listener("web", "api")], [cluster]))

    def served_by(self, proxy):
        response = get(proxy.port("web"), "/")
        return response.header("x-backend") if response.status == 200 else response.status

    def test_discovery_through_tls_and_authentication(self):
        self.etcd.put(PREFIX + self.a.address, "")
        proxy = self.discovering_proxy()
        wait_until(lambda: self.served_by(proxy) == "a", 5, interval=0.05,
                   message="requests served by a, discovered through TLS and authentication")
        # The watch follows changes too: the key goes, the server with it.
        self.etcd.delete(PREFIX + self.a.address)
        wait_until(lambda: self.served_by(proxy) == 503, 5, interval=0.05,
                   message="a gone with its key")

    def assert_refused_and_nothing_discovered(self, proxy, reason):
        wait_until(lambda: re.search(reason, proxy.logs()), 5, interval=0.05,
                   message="the log saying '%s'" % reason)
        self.assertEqual(self.served_by(proxy), 503)
        self.assertNotIn(PASSWORD, proxy.logs())

    def test_wrong_password_is_reported_and_nothing_discovered(self):
        self.etcd.put(PREFIX + self.a.address, "")
        proxy = self.discovering_proxy(password="wrong")
        self.assert_refused_and_nothing_discovered(
            proxy, "etcd authentication as 'root' failed: etcdserver: authentication failed")
        self.assertNotIn("wrong", proxy.logs())

    def test_missing_client_certificate_is_reported_and_nothing_discovered(self):
        self.etcd.put(PREFIX + self.a.address, "")
        proxy = self.discovering_proxy(client_certificate=False)
        # etcd's alert: "bad certificate" (TLS 1.2) or "certificate required" (TLS 1.3).
        self.assert_refused_and_nothing_discovered(
            proxy, r"etcd https://127\.0\.0\.1:\d+/v3/auth/authenticate: .*alert "
                   r"(bad certificate|certificate required)")

    def start_agent(self, *args):
        cert, key = certs("client")
        process = subprocess.Popen(
            [agent_bin(), "--listen", "127.0.0.1:0",
             "--register", "etcd://%s%s" % (self.etcd.endpoint, PREFIX.rstrip("/")),
             "--advertise", self.a.address, "--etcd-ca-file", certs("ca")[0],
             "--etcd-cert", cert, "--etcd-key", key, "--etcd-username", "root",
             "--etcd-password-file", self.password_file(), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stdout = OutputCollector(process.stdout, "fulcrum-agent stdout")
        stderr = OutputCollector(process.stderr, "fulcrum-agent stderr")

        def stop():
            if process.poll() is None:
                process.kill()
            process.wait(5)
        self.addCleanup(stop)
        self.agent = process
        self._outputs.append(lambda: "--- fulcrum-agent ---\n%s\n%s"
                             % (stdout.text(), stderr.text()))
        stdout.wait_for(lambda lines: any(LISTENING.match(l) for _, l in lines), 10,
                        "listening line")
        return stderr

    def wait_for_token_expiry(self, timeout=10):
        """Returns once a token made after now has expired unused, so any token last used
        before now has too. A use keeps a simple token alive, so each token is checked once:
        every poll makes one and every other poll checks the oldest, which thus gets older."""
        fresh = []
        polls = [0]

        def expired():
            fresh.append(self.etcd.authenticate())
            polls[0] += 1
            if polls[0] % 2:
                return False
            status, _ = self.etcd.raw_call("/v3/kv/range", {"key": "eA=="}, fresh.pop(0))
            return status == 401
        wait_until(expired, timeout, interval=0.2, message="a simple token to expire")

    def test_agent_registers_and_drains_after_its_token_expired(self):
        stderr = self.start_agent("--register-ttl", "6s", "--drain-on-exit", "--drain-wait", "1s")
        stderr.wait_for(lambda lines: any("registered " + PREFIX in l for _, l in lines), 10,
                        "registration")
        key = PREFIX + self.a.address
        self.assertEqual(self.etcd.get_prefix(PREFIX)[key][0], '{"weight":1}')
        self.wait_for_token_expiry()
        # Draining puts the key again: the expired token is refused, the agent authenticates
        # again and the put goes through.
        self.agent.send_signal(signal.SIGTERM)
        wait_until(lambda: self.etcd.get_prefix(PREFIX).get(key, ("",))[0] ==
                   '{"weight":1,"drain":true}', 5, interval=0.05, message="the drain put")
        self.assertEqual(self.agent.wait(10), 0)
        self.assertEqual(self.etcd.get_prefix(PREFIX), {}, "the lease revoked at exit")
        self.assertIn("token refused (etcdserver: invalid auth token); authenticating again as "
                      "'root'", stderr.text())
        self.assertNotIn("warn", stderr.text())
        self.assertNotIn(PASSWORD, stderr.text())

    def test_health_sharing_publishes_and_withdraws_through_tls_and_authentication(self):
        doc = config([http_listener("web", "app")],
                     [{"name": "app", "servers": [{"address": self.a.address}]}],
                     access_log={"enabled": False},
                     health_sharing={"etcd": [self.etcd.endpoint], "instance": "i1",
                                     "ttl": "10s", "tls": self.tls(),
                                     "auth": {"username": "root",
                                              "password_file": self.password_file()}})
        proxy = self.start_proxy(doc)
        wait_until(lambda: any(k.endswith("/i1") for k in self.etcd.get_prefix("/fulcrum/health/")),
                   5, interval=0.05, message="instance i1's reports in etcd")
        # A clean stop revokes the lease: the reports leave at once.
        self.stop_proxy(proxy)
        self.assertEqual(self.etcd.get_prefix("/fulcrum/health/"), {})


if __name__ == "__main__":
    unittest.main()
