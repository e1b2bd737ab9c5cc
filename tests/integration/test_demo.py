"""`fulcrum --demo`: three demo backends and the proxy on 127.0.0.1:8080; curl's answers rotate
over the three; SIGTERM stops the proxy and its backend processes. The demo's port is fixed, so
a busy 8080 is a failure with a clear message, not a skip."""

import os
import re
import signal
import socket
import subprocess
import unittest

from harness import OutputCollector, fulcrum_bin

PORT = 8080


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
    def test_demo_rotates_and_stops_cleanly(self):
        self.assertFalse(port_in_use(PORT),
                         "port %d is busy: the demo needs it (stop whatever listens there)" % PORT)
        process = subprocess.Popen([fulcrum_bin(), "--demo"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: process.poll() is None and (process.kill(), process.wait(5)))
        output = OutputCollector(process.stdout, "fulcrum --demo")
        try:
            output.wait_for(lambda lines: any(re.search(r"listener demo \(http\) on "
                                                        r"127\.0\.0\.1:8080 ", l)
                                              for _, l in lines) or process.poll() is not None,
                            10, "the demo listener line")
            self.assertIsNone(process.poll(), "demo exited early:\n" + output.text())
            children = [int(pid) for pid in re.findall(r"kill (\d+) +stops demo backend",
                                                       output.text())]
            self.assertEqual(len(children), 3, output.text())

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

            process.send_signal(signal.SIGTERM)
            self.assertEqual(process.wait(10), 0, output.text())
            output.join()
            for pid in children:
                self.assertFalse(alive(pid), "demo backend %d still running" % pid)
            self.assertFalse(port_in_use(PORT), "port %d still open after exit" % PORT)
        except AssertionError:
            print(output.text())
            raise


if __name__ == "__main__":
    unittest.main()
