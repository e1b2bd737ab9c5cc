"""`fulcrum --check -c FILE`: every shipped example is valid (exit 0); broken files exit 1 with
`file:line:column: message` pointing at the offending spot, one line per error, every error of
the file in file order (up to 20). Starting the proxy on a broken file fails the same way and
starts nothing."""

import glob
import os
import subprocess
import tempfile
import unittest

from harness import LISTENER_LINE, REPO, fulcrum_bin

VALID = """\
listeners:
  - name: web
    listen: 127.0.0.1:0
    cluster: app
clusters:
  - name: app
    policy: round_robin
    retries: 2
    timeouts: { connect: 1s }
    servers:
      - address: 127.0.0.1:9001
"""

# name -> (text, the token the error must point at, a phrase the message must contain)
BROKEN = {
    "unknown key": (VALID.replace("    retries: 2", "    retires: 2"), "retires",
                    "did you mean 'retries'"),
    "wrong type": (VALID.replace("retries: 2", "retries: [1, 2]"), "[1, 2]",
                   "expected a whole number"),
    "bad duration": (VALID.replace("connect: 1s", "connect: 1.5s"), "1.5s", "duration"),
    "bare number duration": (VALID.replace("connect: 1s", "connect: 10"), "10 }", "duration"),
    "unknown policy": (VALID.replace("round_robin", "round_robbin"), "round_robbin",
                       "least_connections"),
    "unknown cluster": (VALID.replace("cluster: app", "cluster: api"), "api", "unknown cluster"),
}

# The case of issue 19: a misspelt key on line 6 and a misspelt policy on line 11. Clusters are
# read before listeners, so the policy is found first; the report starts at line 6 all the same.
TWO_MISTAKES = """\
listeners:
  - name: api
    listen: 127.0.0.1:0
    mode: http
    timeouts: { client_idle: 60s }
    routez:
      - cluster: app
clusters:
  - name: app
    servers: [{ address: 127.0.0.1:9001 }]
    policy: round_robbin
"""


def run(*args):
    return subprocess.run([fulcrum_bin(), *args], capture_output=True, text=True, timeout=10)


def position(text, token):
    for number, line in enumerate(text.splitlines(), 1):
        column = line.find(token)
        if column >= 0:
            return number, column + 1
    raise ValueError(token)


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="fulcrum-check-")
        self.addCleanup(self.dir.cleanup)

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_examples_are_valid(self):
        examples = sorted(glob.glob(os.path.join(REPO, "examples", "*.yaml")))
        self.assertGreaterEqual(len(examples), 1, "no examples/*.yaml found")
        for path in examples:
            with self.subTest(os.path.basename(path)):
                result = run("--check", "-c", path)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("is valid", result.stdout)

    def test_valid_base_passes(self):
        result = run("--check", "-c", self.write("valid.yaml", VALID))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_broken_files_name_the_position(self):
        for name, (text, token, phrase) in BROKEN.items():
            with self.subTest(name):
                path = self.write(name.replace(" ", "-") + ".yaml", text)
                line, column = position(text, token)
                for args in (("--check", "-c", path), ("-c", path)):
                    result = run(*args)
                    self.assertEqual(result.returncode, 1, (args, result.stdout, result.stderr))
                    self.assertIn("%s:%d:%d: " % (path, line, column), result.stderr)
                    self.assertIn(phrase, result.stderr)

    def test_every_error_is_listed_in_file_order(self):
        path = self.write("two.yaml", TWO_MISTAKES)
        for args in (("--check", "-c", path), ("-c", path)):
            with self.subTest(args[0]):
                result = run(*args)
                self.assertEqual(result.returncode, 1, (result.stdout, result.stderr))
                lines = result.stderr.splitlines()
                self.assertEqual(len(lines), 3, result.stderr)
                self.assertTrue(lines[0].startswith("fulcrum: %s:6:5: unknown key 'routez' in "
                                                    "listener" % path), lines[0])
                self.assertTrue(lines[0].endswith("did you mean 'routes'?"), lines[0])
                self.assertTrue(lines[1].startswith("fulcrum: %s:11:13: unknown policy "
                                                    "'round_robbin'" % path), lines[1])
                self.assertEqual(lines[2], "fulcrum: 2 errors in %s" % path)
                # Nothing started: the process ended by itself (run() would time out on a
                # running proxy) without opening a listener.
                self.assertIsNone(LISTENER_LINE.search(result.stdout + result.stderr))

    def test_at_most_twenty_errors_are_listed(self):
        servers = "".join("      - { address: 127.0.0.1:%d, weight: heavy }\n" % (9000 + i)
                          for i in range(30))
        text = VALID.replace("      - address: 127.0.0.1:9001\n", servers)
        path = self.write("many.yaml", text)
        result = run("--check", "-c", path)
        self.assertEqual(result.returncode, 1, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 21, result.stderr)
        first = position(text, "heavy")[0]
        for number, line in enumerate(lines[:20]):
            self.assertIn("%s:%d:" % (path, first + number), line)
            self.assertIn("expected a whole number from 0 to 10000, got 'heavy'", line)
        self.assertEqual(lines[20], "fulcrum: 30 errors in %s (the first 20 shown)" % path)

    def test_missing_file(self):
        path = os.path.join(self.dir.name, "absent.yaml")
        result = run("--check", "-c", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ": cannot read", result.stderr)


if __name__ == "__main__":
    unittest.main()
