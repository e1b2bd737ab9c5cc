"""Hot reload (SIGHUP and POST /api/v1/reload): new connections and requests use the new
configuration, listeners that stay keep their sockets, 20 reloads under wrk load fail no request,
an invalid configuration is rejected with its position while the old one keeps serving, and
run-time changes made through the API survive reloads and restarts (the journal)."""

import json
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest

from admin_api import AdminClient, Load, admin_port
from harness import (ProxyTestCase, cluster, config, connect, get, http_listener, read_response,
                     read_until_eof, to_yaml, wait_until)

RELOADED = re.compile(r"reloaded \S+ \(generation (\d+)\)")
NEW_LISTENER = re.compile(r"reload: new listener (\S+) on \S+:(\d+)")


def rewrite(proxy, doc):
    with open(proxy.config_path, "w") as f:
        f.write(to_yaml(doc) + "\n")


def generation(proxy):
    found = [int(m.group(1)) for _, line in proxy.stdout.lines() + proxy.stderr.lines()
             for m in [RELOADED.search(line)] if m]
    return max(found, default=1)


def sighup_and_wait(proxy, timeout=10):
    before = generation(proxy)
    proxy.process.send_signal(signal.SIGHUP)
    wait_until(lambda: generation(proxy) > before, timeout, message="reload %d" % (before + 1))
    return generation(proxy)


def log_text(proxy):
    return proxy.stdout.text() + "\n" + proxy.stderr.text()


class Reload(ProxyTestCase):
    def doc(self, backends, **extra):
        return config([http_listener("web", "web")], [cluster("web", backends)],
                      access_log={"enabled": False}, drain_timeout="5s", **extra)

    def test_new_configuration_applies_to_new_requests(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        proxy = self.start_proxy(self.doc([b1]))
        port = proxy.port("web")
        self.assertEqual(get(port, "/").status, 200)
        rewrite(proxy, self.doc([b2]))
        sighup_and_wait(proxy)
        b2.sync()
        before = len(b2.requests())
        for _ in range(6):
            self.assertEqual(get(port, "/").status, 200)
        b2.sync()
        self.assertEqual(len(b2.requests()), before + 7, "every new request went to b2")
        self.assertEqual(proxy.port("web"), port)
        self.assertIsNone(proxy.process.poll())

    def test_connections_of_the_old_configuration_close_cleanly(self):
        b1 = self.start_backend("b1")
        doc = self.doc([b1])
        doc["drain_timeout"] = "1s"
        proxy = self.start_proxy(doc)
        request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        busy, idle = connect(proxy.port("web")), connect(proxy.port("web"))
        files = {}
        for sock in (busy, idle):
            self.addCleanup(sock.close)
            files[sock] = sock.makefile("rb")
            sock.sendall(request)
            self.assertNotEqual(read_response(files[sock]).header("connection"), "close")
        sighup_and_wait(proxy)
        # The next request on an old connection is served, and told the connection ends.
        busy.sendall(request)
        response = read_response(files[busy])
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("connection"), "close")
        self.assertEqual(read_until_eof(busy), b"")
        # One left idle is closed once the drain timeout after the reload has passed.
        started = time.monotonic()
        self.assertEqual(read_until_eof(idle, timeout=10), b"")
        self.assertLess(time.monotonic() - started, 5)

    def test_twenty_reloads_under_wrk_load_fail_nothing(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        b3 = self.start_backend("b3")
        proxy = self.start_proxy(self.doc([b1, b2]))
        port = proxy.port("web")
        wrk = shutil.which("wrk")
        self.assertIsNotNone(wrk, "wrk is installed by scripts/install-deps.sh")
        # Long enough for 20 reloads on a loaded machine; stopped early once they are done.
        load = subprocess.Popen([wrk, "-t2", "-c16", "-d120s", "http://127.0.0.1:%d/" % port],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: load.poll() is None and load.kill())
        checker = Load(port, threads=2).start()  # Also counts failures itself, per request.
        self.addCleanup(checker.stop)
        checker.wait_for_more(50)
        for i in range(20):
            rewrite(proxy, self.doc([b1, b2] if i % 2 else [b1, b2, b3]))
            sighup_and_wait(proxy)
            checker.wait_for_more(20)
        load.send_signal(signal.SIGINT)  # wrk prints its summary on SIGINT.
        out, _ = load.communicate(timeout=30)
        ok, failures = checker.stop()
        self.assertEqual(failures, [])
        self.assertGreater(ok, 400)
        self.assertRegex(out, r"requests in", out)
        self.assertNotIn("Socket errors", out, out)
        self.assertNotIn("Non-2xx", out, out)
        b3.sync()
        self.assertGreater(len(b3.requests()), 1, "b3 served while it was configured")
        self.assertEqual(generation(proxy), 21)
        self.assertIsNone(proxy.process.poll())
        self.stop_proxy(proxy)

    def test_invalid_configuration_is_rejected_with_its_position(self):
        b1 = self.start_backend("b1")
        good = self.doc([b1], admin={"listen": "127.0.0.1:0"})
        proxy = self.start_proxy(good)
        api = AdminClient(admin_port(proxy))
        with open(proxy.config_path, "a") as f:
            f.write("bogus_key: 1\n")
        line = len(to_yaml(good).splitlines()) + 1
        where = "%s:%d:1" % (proxy.config_path, line)
        proxy.process.send_signal(signal.SIGHUP)
        wait_until(lambda: where in log_text(proxy), 10, message="the error with its position")
        reply = api.call("POST", "/api/v1/reload")
        self.assertEqual(reply.status, 400, reply)
        self.assertIn(where, reply.json()["error"])
        self.assertEqual(get(proxy.port("web"), "/").status, 200)
        self.assertEqual(generation(proxy), 1)
        # Fixed: POST /api/v1/reload applies it.
        rewrite(proxy, good)
        reply = api.call("POST", "/api/v1/reload")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["generation"], 2)

    def test_listeners_added_and_removed(self):
        b1 = self.start_backend("b1")
        proxy = self.start_proxy(self.doc([b1]))
        web = proxy.port("web")
        two = config([http_listener("web", "web"), http_listener("api", "web")],
                     [cluster("web", [b1])], access_log={"enabled": False})
        rewrite(proxy, two)
        sighup_and_wait(proxy)
        found = [m for _, line in proxy.stdout.lines() for m in [NEW_LISTENER.search(line)] if m]
        self.assertEqual(found[-1].group(1), "api")
        api_port = int(found[-1].group(2))
        self.assertEqual(get(api_port, "/").status, 200)
        self.assertEqual(get(web, "/").status, 200)
        rewrite(proxy, self.doc([b1]))
        sighup_and_wait(proxy)
        self.assertIn("reload: listener api closed", log_text(proxy))
        wait_until(lambda: not _accepts(api_port), 5, message="the api port to close")
        self.assertEqual(get(web, "/").status, 200)

    def test_runtime_changes_survive_reloads_and_restarts(self):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        b3 = self.start_backend("b3")
        doc = self.doc([b1, b2], admin={"listen": "127.0.0.1:0"})
        proxy = self.start_proxy(doc)
        api = AdminClient(admin_port(proxy))
        self.assertEqual(api.call("PATCH", "/api/v1/clusters/web/servers/" + b1.address,
                                  {"weight": 5}).status, 200)
        self.assertEqual(api.call("PATCH", "/api/v1/clusters/web/servers/" + b2.address,
                                  {"state": "drain"}).status, 200)
        self.assertEqual(api.call("POST", "/api/v1/clusters/web/servers",
                                  {"address": b3.address}).status, 201)
        state_file = proxy.config_path + ".state"
        journal = json.load(open(state_file))
        self.assertEqual(len(journal["servers"]), 3, journal)

        def check_changes_hold(api):
            self.assertEqual(api.server("web", b1.address)["weight"]["configured"], 5)
            self.assertEqual(api.server("web", b2.address)["admin_state"], "draining")
            self.assertEqual(api.server("web", b3.address)["address"], b3.address)

        sighup_and_wait(proxy)
        check_changes_hold(api)

        # A restart with the same configuration reads the journal back.
        self.stop_proxy(proxy)
        restarted = self.start_proxy(doc, config_path=proxy.config_path)
        api = AdminClient(admin_port(restarted))
        check_changes_hold(api)

        # The configuration itself changes b1's weight: from now on it decides.
        doc["clusters"][0]["servers"][0]["weight"] = 2
        rewrite(restarted, doc)
        sighup_and_wait(restarted)
        self.assertEqual(api.server("web", b1.address)["weight"]["configured"], 2)
        self.assertEqual(api.server("web", b2.address)["admin_state"], "draining")
        self.assertIn("the configuration now decides server %s" % b1.address, log_text(restarted))
        self.stop_proxy(restarted)


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
