"""Certificate renewal by hot reload: a TLS listener under load (wrk over https, keep-alive and
a new connection per request, and a pool of Python TLS clients) gets new certificate files and a
SIGHUP; no request fails, new handshakes present the new certificate, sessions resume across the
reload (ticket keys stay), and a bad key file fails the reload with its position in the
configuration while the old certificate keeps being served."""

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from admin_api import AdminClient, Load, admin_port
from harness import (ProxyTestCase, cluster, config, connect, http_listener, to_yaml,
                     wait_until)
from test_reload import generation, log_text, sighup_and_wait
from tls_helpers import cert, key, make_certs, remove_certs


def setUpModule():
    make_certs()
    # Two certificates for the same listener, signed by the same CA, told apart by their common
    # names ("old" and "new": the tool names a certificate's subject after its file).
    tool = os.environ["FULCRUM_TEST_CERTS"]
    subprocess.run([tool, os.path.dirname(cert("ca")), "ca=renewca", "old=old.test",
                    "new=new.test"], check=True, timeout=30)


def tearDownModule():
    remove_certs()


def install(stem, directory):
    """Puts certificate `stem` in place as live.pem/live.key the way renewal tools do: each file
    written aside and renamed over the old one, so the proxy never reads half a file."""
    for source, target in ((cert(stem), "live.pem"), (key(stem), "live.key")):
        staged = os.path.join(directory, target + ".new")
        shutil.copyfile(source, staged)
        os.replace(staged, os.path.join(directory, target))


def write_broken_key(directory):
    with open(os.path.join(directory, "live.key"), "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")


def install_new_certificate_with_old_key(directory):
    shutil.copyfile(cert("new"), os.path.join(directory, "live.pem"))
    shutil.copyfile(key("old"), os.path.join(directory, "live.key"))


def client_context():
    """Verifies the chain against the renewal CA; the name changes on purpose, so no name check."""
    context = ssl.create_default_context(cafile=cert("renewca"))
    context.check_hostname = False
    return context


def common_name(peer_cert):
    return [value for rdn in peer_cert["subject"] for name, value in rdn if name == "commonName"][0]


def served_common_name(port, session=None, context=None):
    """(common name of the certificate a new handshake presents, the TLS session, whether it
    was resumed) after one request on the connection. A `session` resumes only through the
    `context` it was made with."""
    with connect(port) as raw:
        with (context or client_context()).wrap_socket(raw, server_hostname="renew.test",
                                                       session=session) as tls:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: renew.test\r\nConnection: close\r\n\r\n")
            reply = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                reply += chunk
            if not reply.startswith(b"HTTP/1.1 200"):
                raise AssertionError("unexpected reply %r" % reply[:200])
            # A resumed TLS 1.3 session carries no certificate: the name is that of the session.
            peer = tls.getpeercert()
            return (common_name(peer) if peer else None), tls.session, tls.session_reused


class TlsLoad(Load):
    """`threads` HTTPS clients sending GET / until stopped, each on a keep-alive connection (or a
    new one per request with `new_connection_each=True`); any non-200 answer or error is a
    failure. Records the common name presented by every handshake, in order."""

    def __init__(self, port, threads=2, new_connection_each=False):
        super().__init__(port, threads)
        self.new_connection_each = new_connection_each
        self.handshakes = []  # (monotonic time, common name)
        self._context = client_context()

    def connect(self):
        # The time the handshake started: one that starts after a reload has finished must see
        # the new certificate.
        started = time.monotonic()
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=self._context)
        conn.connect()
        name = common_name(conn.sock.getpeercert())
        with self._lock:
            self.handshakes.append((started, name))
        return conn

    def headers(self):
        return {"Connection": "close"} if self.new_connection_each else {}

    def names_since(self, started):
        with self._lock:
            return [name for at, name in self.handshakes if at >= started]

    def wait_for_more(self, n, timeout=30):
        super().wait_for_more(n, timeout)


def start_wrk(test, port, *extra):
    wrk = shutil.which("wrk")
    test.assertIsNotNone(wrk, "wrk is installed by scripts/install-deps.sh")
    # Long enough for the reloads on a loaded machine; stopped early with SIGINT.
    load = subprocess.Popen([wrk, "-t1", "-c8", "-d120s", *extra, "https://127.0.0.1:%d/" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    test.addCleanup(lambda: load.poll() is None and load.kill())
    return load


def stop_wrk(load):
    """wrk's summary (it prints one on SIGINT)."""
    load.send_signal(signal.SIGINT)
    out, _ = load.communicate(timeout=30)
    return out


def position_of(config_text, needle):
    """'LINE:COLUMN' (1-based) of the double-quoted scalar that contains `needle`."""
    for number, line in enumerate(config_text.splitlines(), start=1):
        at = line.find(needle)
        if at >= 0:
            return "%d:%d" % (number, line.rfind('"', 0, at) + 1)
    raise AssertionError("%s not in the configuration" % needle)


class TlsCertificateReload(ProxyTestCase):
    def setUp(self):
        super().setUp()
        self._files = tempfile.TemporaryDirectory(prefix="fulcrum-tls-reload-")
        self.addCleanup(self._files.cleanup)
        self.files = self._files.name
        install("old", self.files)
        self.backend = self.start_backend("b1")

    def doc(self, **extra):
        tls = {"certificates": [{"cert": os.path.join(self.files, "live.pem"),
                                 "key": os.path.join(self.files, "live.key")}]}
        return config([http_listener("web", "app", tls=tls)], [cluster("app", [self.backend])],
                      access_log={"enabled": False}, drain_timeout="5s", **extra)

    def test_certificate_replaced_under_load_fails_nothing(self):
        proxy = self.start_proxy(self.doc())
        port = proxy.port("web")
        self.assertEqual(served_common_name(port)[0], "old")
        keep_alive = start_wrk(self, port)
        new_each = start_wrk(self, port, "-H", "Connection: close")
        pool = TlsLoad(port).start()
        self.addCleanup(pool.stop)
        handshakes = TlsLoad(port, new_connection_each=True).start()
        self.addCleanup(handshakes.stop)
        pool.wait_for_more(50)
        handshakes.wait_for_more(20)
        resuming = client_context()
        _, old_session, _ = served_common_name(port, context=resuming)

        names = ["new", "old", "new", "old", "new"]
        for name in names:
            install(name, self.files)
            sighup_and_wait(proxy)
            reloaded_at = time.monotonic()
            self.assertEqual(served_common_name(port)[0], name)
            # Every handshake that starts after the reload gets the new certificate.
            handshakes.wait_for_more(20)
            pool.wait_for_more(20)
            self.assertEqual(set(handshakes.names_since(reloaded_at)), {name})

        # The ticket keys stayed through five reloads: a session from before them resumes.
        _, _, resumed = served_common_name(port, session=old_session, context=resuming)
        self.assertTrue(resumed, "a session from before the reloads resumes")

        outputs = {"keep-alive": stop_wrk(keep_alive), "new connections": stop_wrk(new_each)}
        self.assertEqual(pool.stop()[1], [])
        self.assertEqual(handshakes.stop()[1], [])
        for what, out in outputs.items():
            self.assertRegex(out, r"\d+ requests in", "wrk %s: %s" % (what, out))
            self.assertNotIn("Socket errors", out, "wrk %s: %s" % (what, out))
            self.assertNotIn("Non-2xx", out, "wrk %s: %s" % (what, out))
        self.assertEqual(generation(proxy), 1 + len(names))
        self.stop_proxy(proxy)

    def test_bad_key_fails_the_reload_and_the_old_certificate_stays(self):
        proxy = self.start_proxy(self.doc(admin={"listen": "127.0.0.1:0"}))
        port = proxy.port("web")
        api = AdminClient(admin_port(proxy))
        pool = TlsLoad(port).start()
        self.addCleanup(pool.stop)
        pool.wait_for_more(20)
        key_path = os.path.join(self.files, "live.key")
        where = "%s:%s: %s: " % (proxy.config_path, position_of(proxy.config_text, key_path),
                                 key_path)
        cases = [
            # Not a key at all.
            (write_broken_key, "no usable PEM private key"),
            # A valid key of another certificate: the new certificate is in place, its key not.
            (install_new_certificate_with_old_key, "the key does not match the certificate"),
        ]
        for break_files, reason in cases:
            break_files(self.files)
            failures_logged = log_text(proxy).count("the running configuration stays")
            proxy.process.send_signal(signal.SIGHUP)
            wait_until(lambda: log_text(proxy).count("the running configuration stays")
                       > failures_logged, 10, message="the reload to fail")
            self.assertRegex(log_text(proxy), re.escape(where) + ".*" + re.escape(reason))
            reply = api.call("POST", "/api/v1/reload")
            self.assertEqual(reply.status, 400, reply)
            self.assertIn(where, reply.json()["error"])
            self.assertIn(reason, reply.json()["error"])
            self.assertEqual(served_common_name(port)[0], "old")
            pool.wait_for_more(20)
            self.assertEqual(generation(proxy), 1)

        # The key that goes with the new certificate arrives: the reload succeeds.
        install("new", self.files)
        reply = api.call("POST", "/api/v1/reload")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(served_common_name(port)[0], "new")
        pool.wait_for_more(20)
        self.assertEqual(pool.stop()[1], [])
        self.assertEqual(generation(proxy), 2)
        self.stop_proxy(proxy)

    def test_reload_failing_after_the_certificates_keeps_the_old_ones(self):
        """New certificate files, and a new listener whose port is taken: the reload fails at
        the bind, after the certificates were read, and the running listener still presents the
        old certificate; once the listener is dropped from the file, the new one is served."""
        proxy = self.start_proxy(self.doc())
        port = proxy.port("web")
        self.assertEqual(served_common_name(port)[0], "old")
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            doc = self.doc()
            doc["listeners"].append(http_listener(
                "taken", "app", listen="127.0.0.1:%d" % holder.getsockname()[1]))
            install("new", self.files)
            with open(proxy.config_path, "w") as f:
                f.write(to_yaml(doc) + "\n")
            failures_logged = log_text(proxy).count("the running configuration stays")
            proxy.process.send_signal(signal.SIGHUP)
            wait_until(lambda: log_text(proxy).count("the running configuration stays")
                       > failures_logged, 10, message="the reload to fail")
            self.assertEqual(served_common_name(port)[0], "old")
            self.assertEqual(generation(proxy), 1)
        with open(proxy.config_path, "w") as f:
            f.write(to_yaml(self.doc()) + "\n")
        sighup_and_wait(proxy)
        self.assertEqual(served_common_name(port)[0], "new")
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
