"""`fulcrum --demo`: three demo backends and the proxy on 127.0.0.1:8080; curl's answers rotate
over the three; the printed status page link (admin listener on 9901, or another port when 9901
is taken, with a token made for the run) opens the page in headless Chromium, which lists the
demo's servers and drains one with the token the link carries; the admin API lists the same
servers and takes changes only with that token; SIGTERM stops the proxy and its backend
processes. The demo's proxy port is fixed, so a busy 8080 is a failure with a clear message,
not a skip."""

import json
import os
import re
import signal
import socket
import subprocess
import unittest

from admin_api import AdminClient
from browser import start_chromium
from harness import OutputCollector, fulcrum_bin, wait_until

PORT = 8080
ADMIN_PORT = 9901
STATUS_PAGE_LINE = re.compile(r"^  http://127\.0\.0\.1:(\d+)/#token=([0-9a-f]+)$", re.M)


def port_in_use(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # Still in the table: alive unless it is a zombie nobody has reaped yet.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(") ", 1)[1][0] != "Z"


class DemoTest(unittest.TestCase):
    def test_demo_rotates_serves_its_status_page_and_stops_cleanly(self):
        self.assertFalse(port_in_use(PORT),
                         "port %d is busy: the demo needs it (stop whatever listens there)" % PORT)
        admin_port_was_free = not port_in_use(ADMIN_PORT)
        process = subprocess.Popen([fulcrum_bin(), "--demo"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: process.poll() is None and (process.kill(), process.wait(5)))
        output = OutputCollector(process.stdout, "fulcrum --demo")
        try:
            output.wait_for(lambda lines: any(STATUS_PAGE_LINE.search(line) for _, line in lines)
                            or process.poll() is not None, 10, "the status page's address")
            self.assertIsNone(process.poll(), "demo exited early:\n" + output.text())
            self.assertRegex(output.text(), r"listener demo \(http\) on 127\.0\.0\.1:8080 ")
            backends = re.findall(r"kill (\d+) +stops demo backend \d \(port (\d+)\)",
                                  output.text())
            self.assertEqual(len(backends), 3, output.text())
            children = [int(pid) for pid, _ in backends]
            addresses = ["127.0.0.1:" + port for _, port in backends]

            self.check_rotation()
            admin_port, token = STATUS_PAGE_LINE.search(output.text()).groups()
            admin_port = int(admin_port)
            if admin_port_was_free:
                self.assertEqual(admin_port, ADMIN_PORT)
            self.check_admin_api(admin_port, token, addresses)
            self.check_status_page(admin_port, token, addresses)

            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(10), 0, output.text())
            output.join()
            for pid in children:
                self.assertFalse(alive(pid), "demo backend %d still running" % pid)
            self.assertFalse(port_in_use(PORT), "port %d still open after exit" % PORT)
        except AssertionError:
            print(output.text())
            raise

    def check_rotation(self):
        backends = []
        for _ in range(6):
            result = subprocess.run(["curl", "-sS", "-i", "--max-time", "5",
                                     "http://127.0.0.1:%d/" % PORT],
                                    capture_output=True, text=True, timeout=10)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertRegex(result.stdout, r"^HTTP/1\.1 200 ")
            backends.append(re.search(r"Hello from demo backend (\d)", result.stdout).group(1))
        # Round robin over three: every window of three answers covers all of them.
        self.assertEqual(sorted(backends[:3]), ["1", "2", "3"], backends)
        self.assertEqual(sorted(backends[3:]), ["1", "2", "3"], backends)

    def check_admin_api(self, admin_port, token, addresses):
        api = AdminClient(admin_port, token=token)
        demo = api.get("/api/v1/clusters/demo")
        self.assertEqual(demo.status, 200, demo)
        self.assertEqual([s["address"] for s in demo.json()["servers"]], addresses)
        path = "/api/v1/clusters/demo/servers/" + addresses[2]
        refused = api.call("PATCH", path, {"state": "drain"}, token="")
        self.assertEqual(refused.status, 401, refused)  # The token is really required...
        wrong = api.call("PATCH", path, {"state": "drain"}, token="not-" + token)
        self.assertEqual(wrong.status, 401, wrong)
        for state, admin_state in (("drain", "draining"), ("enable", "enabled")):
            reply = api.call("PATCH", path, {"state": state})  # ...and the printed one works.
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(reply.json()["admin_state"], admin_state)

    def check_status_page(self, admin_port, token, addresses):
        """Opens the printed link as an operator would and drains the first server with it."""
        page = start_chromium(self, window="1280,800")
        self.addCleanup(page.ws.close)
        page.call("Page.enable")
        page.call("Page.navigate", url="http://127.0.0.1:%d/#token=%s" % (admin_port, token))
        rows_js = ("JSON.stringify([...document.querySelectorAll('tr[data-server]')]"
                   ".map(r => r.dataset.server))")
        rows = wait_until(lambda: (lambda v: v if len(v) == 3 else None)(
            json.loads(page.evaluate(rows_js) or "[]")), 15, message="the demo's three rows")
        self.assertEqual(rows, addresses)
        # The page took the token from the link and took it off the address bar.
        self.assertEqual(page.evaluate("document.getElementById('token').value"), token)
        self.assertEqual(page.evaluate("location.hash"), "")
        page.click("tr[data-server='%s'] button[data-action='drain']" % addresses[0])
        api = AdminClient(admin_port)
        wait_until(lambda: api.server("demo", addresses[0])["admin_state"] == "draining", 10,
                   message="the first demo server drained from the page")


if __name__ == "__main__":
    unittest.main()
