"""Admin API authentication on the real binary: off loopback every endpoint needs the token (401
and a log line otherwise); on loopback reads are open and changes need it; a non-loopback
listener without a token is a configuration error with its position."""

import os
import re
import subprocess
import tempfile
import unittest

from admin_api import AdminClient, admin_port
from harness import ProxyTestCase, cluster, config, fulcrum_bin, http_listener, to_yaml

TOKEN = "4dm1n-t0ken-xyz"


def endpoints(b1, b2):
    return [
        ("GET", "/api/v1/clusters", None),
        ("GET", "/api/v1/clusters/web", None),
        ("GET", "/api/v1/clusters/web/servers/" + b1.address, None),
        ("PATCH", "/api/v1/clusters/web/servers/" + b1.address, {"weight": 2}),
        ("POST", "/api/v1/clusters/web/servers", {"address": "127.0.0.1:1"}),
        ("DELETE", "/api/v1/clusters/web/servers/" + b2.address, None),
        ("GET", "/api/v1/explain?listener=web&path=/", None),
        ("GET", "/metrics", None),
    ]


class AdminAuth(ProxyTestCase):
    def token_file(self):
        directory = tempfile.TemporaryDirectory(prefix="fulcrum-token-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "admin.token")
        with open(path, "w") as f:
            f.write(TOKEN + "\n")
        return path

    def start(self, admin):
        b1 = self.start_backend("b1")
        b2 = self.start_backend("b2")
        proxy = self.start_proxy(config([http_listener("web", "web")], [cluster("web", [b1, b2])],
                                        admin=admin))
        return proxy, b1, b2

    def test_off_loopback_every_endpoint_needs_the_token(self):
        proxy, b1, b2 = self.start({"listen": "0.0.0.0:0", "token_file": self.token_file()})
        api = AdminClient(admin_port(proxy))
        for method, path, body in endpoints(b1, b2):
            for token in ("", "wrong-token"):
                reply = api.call(method, path, body, token=token)
                self.assertEqual(reply.status, 401, (method, path, token, reply))
                self.assertEqual(reply.headers.get("www-authenticate"), 'Bearer realm="fulcrum"')
                self.assertIn("error", reply.json())
        log = proxy.stdout.text()
        for method, path, _ in endpoints(b1, b2):
            self.assertIn("admin: 401 for %s %s from 127.0.0.1:" % (method, path.split("?")[0]),
                          log)
        self.assertIn("missing Authorization: Bearer token", log)
        self.assertIn(": wrong token", log)
        servers = [s["address"] for s in
                   api.get("/api/v1/clusters/web", token=TOKEN).json()["servers"]]
        self.assertEqual(servers, [b1.address, b2.address], "no refused call changed anything")

        for method, path, body in endpoints(b1, b2):
            reply = api.call(method, path, body, token=TOKEN)
            self.assertLess(reply.status, 300, (method, path, reply))
        log = proxy.stdout.text()
        self.assertIn("server 127.0.0.1:1 added to cluster 'web' (weight 1) by 127.0.0.1:", log)
        self.assertIn("(token)", log)
        # The page shell is static and loads without a token; its data calls need one.
        self.assertEqual(api.get("/", token="").status, 200)
        self.stop_proxy(proxy)

    def test_on_loopback_reads_are_open_and_changes_need_the_token(self):
        proxy, b1, _ = self.start({"listen": "127.0.0.1:0", "token_file": self.token_file()})
        api = AdminClient(admin_port(proxy))
        self.assertEqual(api.get("/api/v1/clusters").status, 200)
        self.assertEqual(api.get("/metrics").status, 200)
        self.assertEqual(api.get("/api/v1/explain?listener=web").status, 200)
        path = "/api/v1/clusters/web/servers/" + b1.address
        self.assertEqual(api.call("PATCH", path, {"state": "disable"}).status, 401)
        self.assertEqual(api.server("web", b1.address)["admin_state"], "enabled")
        reply = api.call("PATCH", path, {"state": "disable"}, token=TOKEN)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["admin_state"], "disabled")
        self.assertIn("admin: 401 for PATCH %s from 127.0.0.1:" % path, proxy.stdout.text())
        self.stop_proxy(proxy)

    def test_loopback_without_token_accepts_changes_and_logs_their_origin(self):
        proxy, b1, _ = self.start({"listen": "127.0.0.1:0"})
        api = AdminClient(admin_port(proxy))
        reply = api.call("PATCH", "/api/v1/clusters/web/servers/" + b1.address, {"state": "drain"})
        self.assertEqual(reply.status, 200, reply)
        # The change is logged by the admin thread as it answers: wait for the line, do not race it.
        pattern = re.compile(r"server %s of cluster 'web' enabled -> draining by 127\.0\.0\.1:\d+ "
                             r"\(loopback\)" % re.escape(b1.address))
        proxy.stdout.wait_for(lambda lines: any(pattern.search(line) for _, line in lines), 5,
                             "the change logged")
        self.stop_proxy(proxy)

    def test_a_public_listener_without_token_is_a_config_error_with_position(self):
        doc = config([http_listener("web", "web")], [cluster("web", ["127.0.0.1:9"])],
                     admin={"listen": "0.0.0.0:9901"})
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "fulcrum.yaml")
            text = to_yaml(doc) + "\n"
            with open(path, "w") as f:
                f.write(text)
            lines = text.splitlines()
            line = next(i for i, text in enumerate(lines, 1) if "0.0.0.0:9901" in text)
            column = lines[line - 1].index('"0.0.0.0:9901"') + 1
            for args in (["--check", "-c", path], ["-c", path]):
                result = subprocess.run([fulcrum_bin(), *args], capture_output=True, text=True,
                                        timeout=10)
                self.assertEqual(result.returncode, 1, result)
                self.assertIn("%s:%d:%d: admin listen address '0.0.0.0:9901' is not a loopback "
                              "address: a 'token_file' is required" % (path, line, column),
                              result.stderr)


if __name__ == "__main__":
    unittest.main()
