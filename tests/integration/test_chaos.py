"""Chaos under load, the 20-second version (`make chaos` runs 60 s): chaos.py kills, hangs,
black-holes and slows 4 real backends behind the real fulcrum while clients send checked GETs
and POSTs; it fails on any failed GET, POST executed twice, unanswered request, corrupted body,
or a returning backend that gets no traffic within one health interval plus offline_timeout."""

import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class ChaosTest(unittest.TestCase):
    def test_twenty_seconds_of_chaos_lose_nothing(self):
        with tempfile.TemporaryDirectory(prefix="fulcrum-chaos-") as directory:
            summary = os.path.join(directory, "summary.md")
            run = subprocess.run(
                [sys.executable, os.path.join(HERE, "chaos.py"), "--duration", "20", "--step",
                 "2", "--summary", summary],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=100)
            output = run.stdout.decode("utf-8", "replace")
            self.assertEqual(run.returncode, 0, output)
            with open(summary) as f:
                table = f.read()
            self.assertIn("PASSED", table)
            # The run did apply every kind of fault.
            for fault in ("kill", "stop", "blackhole", "slow"):
                self.assertRegex(table, r"%s [1-9]" % fault)
            sys.stdout.write(table)


if __name__ == "__main__":
    unittest.main()
