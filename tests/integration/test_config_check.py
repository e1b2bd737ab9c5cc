"""`fulcrum --check -c FILE`: every shipped example is valid (exit 0); broken files exit 1 with
`file:line:column: message` pointing at the offending spot. Starting the proxy on a broken
file fails the same way."""

import glob
import os
import subprocess
import tempfile
import unittest

from harness import REPO, fulcrum_bin

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

    def test_missing_file(self):
        path = os.path.join(self.dir.name, "absent.yaml")
        result = run("--check", "-c", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(path + ": cannot read", result.stderr)


if __name__ == "__main__":
    unittest.main()
