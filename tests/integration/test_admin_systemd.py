"""Service manager integration: fulcrum tells $NOTIFY_SOCKET READY=1 once it serves and
STOPPING=1 when it drains (sd_notify protocol, no libsystemd), and the example unit in
packaging/ passes `systemd-analyze verify`."""

import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from admin_api import admin_port
from harness import REPO, ProxyTestCase, cluster, config, fulcrum_bin, get, http_listener

UNIT = os.path.join(REPO, "packaging", "fulcrum.service")


class Notify(ProxyTestCase):
    def test_ready_once_serving_and_stopping_on_drain(self):
        directory = tempfile.TemporaryDirectory(prefix="fulcrum-notify-")
        self.addCleanup(directory.cleanup)
        path = os.path.join(directory.name, "notify.sock")
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(receiver.close)
        receiver.bind(path)
        receiver.settimeout(10)

        backend = self.start_backend("b1")
        os.environ["NOTIFY_SOCKET"] = path
        try:
            proxy = self.start_proxy(config([http_listener("web", "web")],
                                            [cluster("web", [backend])],
                                            admin={"listen": "127.0.0.1:0"}))
        finally:
            del os.environ["NOTIFY_SOCKET"]
        message = receiver.recv(4096).decode()
        self.assertIn("READY=1", message.split("\n"))
        # Ready means serving: the proxy and the admin API answer.
        self.assertEqual(get(proxy.port("web"), "/").status, 200)
        self.assertEqual(get(admin_port(proxy), "/api/v1/clusters").status, 200)
        proxy.process.send_signal(15)
        self.assertIn("STOPPING=1", receiver.recv(4096).decode().split("\n"))
        self.stop_proxy(proxy)


class Unit(unittest.TestCase):
    def test_example_unit_is_type_notify_reloads_with_sighup_and_verifies(self):
        with open(UNIT) as f:
            lines = [line.strip() for line in f]
        self.assertIn("Type=notify", lines)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", lines)
        self.assertIn("ExecStart=/usr/bin/fulcrum -c /etc/fulcrum/fulcrum.yaml", lines)
        analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(analyze, "systemd-analyze (package systemd, scripts/install-deps.sh)")
        with tempfile.TemporaryDirectory() as directory:
            # The unit names the installed path; verify it against the binary under test.
            unit = os.path.join(directory, "fulcrum.service")
            with open(UNIT) as source, open(unit, "w") as target:
                target.write(source.read().replace("/usr/bin/fulcrum", fulcrum_bin()))
            result = subprocess.run([analyze, "verify", unit], capture_output=True, text=True,
                                    timeout=30)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertNotIn("fulcrum.service:", result.stderr, "no warnings about the unit")


if __name__ == "__main__":
    unittest.main()
