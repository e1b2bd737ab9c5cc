"""`fulcrum-agent`, the server agent, as operators run it: each TCP connection gets one line (the
host's load, a --file's first line, a --command's output) in Equalizer or HAProxy format, at
once and without waiting for a probe string; bad options exit non-zero with a clear message.

The binary comes from $FULCRUM_AGENT_BIN, else from beside $FULCRUM_BIN (same build bin/)."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import OutputCollector, connect, read_until_eof, wait_until

LISTENING = re.compile(r"^listening on (\S+):(\d+)$")


def agent_bin():
    path = os.environ.get("FULCRUM_AGENT_BIN")
    if not path and os.environ.get("FULCRUM_BIN"):
        path = os.path.join(os.path.dirname(os.environ["FULCRUM_BIN"]), "fulcrum-agent")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set FULCRUM_AGENT_BIN (or FULCRUM_BIN) so that the fulcrum-agent "
                           "executable can be found; got %r" % path)
    return path


def run_agent(*args, timeout=10):
    return subprocess.run([agent_bin(), *args], capture_output=True, text=True, timeout=timeout)


class Agent:
    """A running fulcrum-agent on 127.0.0.1 (or `host`), port chosen by the system."""

    def __init__(self, *args, host="127.0.0.1"):
        listen = "[%s]:0" % host if ":" in host else "%s:0" % host
        self.host = host
        self.process = subprocess.Popen([agent_bin(), "--listen", listen, *args],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.stdout = OutputCollector(self.process.stdout, "fulcrum-agent stdout")
        self.stderr = OutputCollector(self.process.stderr, "fulcrum-agent stderr")
        match = self.stdout.wait_for(
            lambda lines: next((LISTENING.match(l) for _, l in lines if LISTENING.match(l)), None),
            10, "listening line")
        self.port = int(match.group(2))

    def ask(self, probe=b"", timeout=5):
        """One probe: connect, optionally send `probe`, read the answer until the agent closes."""
        with connect(self.port, timeout, host=self.host) as sock:
            if probe:
                sock.sendall(probe)
            return read_until_eof(sock, timeout).decode("latin-1")

    def wait_stderr(self, text, timeout=5):
        return self.stderr.wait_for(lambda lines: any(text in l for _, l in lines), timeout,
                                    repr(text))

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(10)
        finally:
            self.stdout.join()
            self.stderr.join()


class AgentTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="fulcrum-agent-")
        self.addCleanup(self.dir.cleanup)

    def start(self, *args, **kwargs):
        agent = Agent(*args, **kwargs)
        self.addCleanup(agent.stop, signal.SIGKILL)
        return agent

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def write(self, path, text):
        # Replaced atomically, as operators' tools (and editors) usually do.
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)

    def assertLoad(self, answer, low=0, high=100):
        self.assertRegex(answer, r"^-?\d+\n$")
        self.assertTrue(low <= int(answer) <= high, "%r not within %d..%d" % (answer, low, high))
        return int(answer)


def host_load_percent():
    with open("/proc/loadavg") as f:
        load = float(f.read().split()[0])
    return min(100, round(100 * load / os.cpu_count()))


class LoadSourceTest(AgentTestCase):
    def test_default_answer_is_the_load_average_over_cores(self):
        agent = self.start()
        before = host_load_percent()
        answer = agent.ask()
        after = host_load_percent()
        # The 1-minute average moves slowly; allow rounding and the moment between readings.
        self.assertLoad(answer, max(0, min(before, after) - 2), min(100, max(before, after) + 2))

    def test_cpu_busy_percent(self):
        agent = self.start("--cpu")
        self.assertLoad(agent.ask())

    def test_haproxy_format_says_spare_capacity_as_weight(self):
        agent = self.start("--format", "haproxy")
        answer = agent.ask()
        match = re.match(r"^up ready (\d+)%\n$", answer)
        self.assertTrue(match, answer)
        self.assertTrue(1 <= int(match.group(1)) <= 100, answer)


class FileSourceTest(AgentTestCase):
    def test_operator_switches_minus_one_fifty_drain_and_back(self):
        state = self.path("state")
        agent = self.start("--file", state)
        self.assertLoad(agent.ask())  # No file yet: the measured load.
        for written, expected in (("-1\n", "-1\n"), ("50", "50\n"), ("drain\n", "drain\n"),
                                  ("  maint # kernel upgrade \n", "maint # kernel upgrade\n"),
                                  ("up ready 25%\nsecond line ignored\n", "up ready 25%\n")):
            self.write(state, written)
            self.assertEqual(agent.ask(), expected, "file content %r" % written)
        agent.wait_stderr("file %s: answering 'maint # kernel upgrade'" % state)
        self.write(state, "\n")  # Blank: back to the measured load.
        self.assertLoad(agent.ask())
        os.remove(state)
        self.assertLoad(agent.ask())
        agent.wait_stderr("answering the measured load")

    def test_invalid_content_answers_nothing_and_says_why(self):
        state = self.path("state")
        agent = self.start("--file", state)
        self.write(state, "dran\n")
        self.assertEqual(agent.ask(), "")
        agent.wait_stderr("unknown word 'dran'")
        self.write(state, "150\n")
        self.assertEqual(agent.ask(), "")
        agent.wait_stderr("'150' is outside -1..100")
        self.write(state, "drain\n")
        self.assertEqual(agent.ask(), "drain\n")

    def test_haproxy_format_translates_integers_written_to_the_file(self):
        state = self.path("state")
        agent = self.start("--file", state, "--format", "haproxy")
        self.write(state, "30\n")
        self.assertEqual(agent.ask(), "up ready 70%\n")
        self.write(state, "-1\n")
        self.assertEqual(agent.ask(), "drain\n")
        self.write(state, "maint\n")
        self.assertEqual(agent.ask(), "maint\n")


class CommandSourceTest(AgentTestCase):
    def test_first_line_of_the_command_output(self):
        agent = self.start("--command", "echo 42; echo 99")
        self.assertEqual(agent.ask(), "42\n")
        agent = self.start("--command", "printf 'drain # from script'")
        self.assertEqual(agent.ask(), "drain # from script\n")

    def test_command_runs_on_every_connection(self):
        counter = self.path("count")
        agent = self.start("--command", "echo x >> %s; wc -l < %s" % (counter, counter))
        self.assertEqual([agent.ask() for _ in range(3)], ["1\n", "2\n", "3\n"])

    def test_slow_command_is_cut_off_and_answers_nothing(self):
        agent = self.start("--command", "sleep 30; echo 1", "--command-timeout", "200ms")
        start = time.monotonic()
        self.assertEqual(agent.ask(timeout=10), "")
        self.assertLess(time.monotonic() - start, 5)
        agent.wait_stderr("no line within 200 ms")

    def test_unparseable_output_answers_nothing(self):
        agent = self.start("--command", "echo 'load is high'")
        self.assertEqual(agent.ask(), "")
        agent.wait_stderr("unknown word 'load'")


class ProtocolTest(AgentTestCase):
    def test_answers_at_once_without_waiting_for_a_probe(self):
        agent = self.start("--command", "echo 7")
        with connect(agent.port, 5) as sock:
            sock.settimeout(1.5)  # Below the agent's 2 s linger: the answer must not wait.
            self.assertEqual(sock.recv(100), b"7\n")

    def test_probe_string_is_ignored_and_the_connection_closes_cleanly(self):
        agent = self.start("--command", "echo 8")
        self.assertEqual(agent.ask(probe=b"load\n"), "8\n")
        self.assertEqual(agent.ask(probe=b"x" * 50000), "8\n")

    def test_many_probers_at_once(self):
        agent = self.start("--command", "echo 9")
        answers = []
        lock = threading.Lock()

        def probe():
            answer = agent.ask(timeout=10)
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=probe) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        self.assertEqual(answers, ["9\n"] * 20)

    def test_ipv6_listener(self):
        agent = self.start("--command", "echo 5", host="::1")
        self.assertEqual(agent.ask(), "5\n")

    def test_sigterm_and_sigint_exit_zero(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            agent = Agent("--command", "echo 1")
            self.addCleanup(agent.stop, signal.SIGKILL)
            self.assertEqual(agent.ask(), "1\n")
            self.assertEqual(agent.stop(sig), 0, "exit status after %s" % sig.name)


class CommandLineTest(AgentTestCase):
    def test_help_and_version(self):
        result = run_agent("--help")
        self.assertEqual(result.returncode, 0)
        for option in ("--listen", "--format", "--command", "--file", "--cpu",
                       "--command-timeout", "0.0.0.0:1510"):
            self.assertIn(option, result.stdout)
        result = run_agent("--version")
        self.assertEqual(result.returncode, 0)
        self.assertRegex(result.stdout, r"^fulcrum-agent \d+\.\d+\.\d+\n$")

    def test_bad_options_exit_nonzero_with_a_clear_message(self):
        cases = [
            (["--format", "f5"], "--format: f5 not in {equalizer,haproxy}"),
            (["--listen", "1510"], "expected HOST:PORT"),
            (["--listen", "localhost:1510"], "'localhost' is not an IPv4 address"),
            (["--listen", "127.0.0.1:70000"], "the port must be a number from 0 to 65535"),
            (["--command", "echo 1", "--file", "x"], "--command excludes --file"),
            (["--command", "echo 1", "--command-timeout", "0"], "expected a duration"),
            (["--command-timeout", "1s"], "--command-timeout requires --command"),
            (["--command", ""], "--command: the command is empty"),
            (["--bogus"], "--bogus"),
        ]
        for args, message in cases:
            result = run_agent(*args)
            self.assertEqual(result.returncode, 2, args)  # A command-line mistake.
            self.assertIn(message, result.stderr, args)

    def test_port_in_use_exits_nonzero(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        self.addCleanup(holder.close)
        result = run_agent("--listen", "127.0.0.1:%d" % holder.getsockname()[1])
        self.assertEqual(result.returncode, 1)  # A failure at run time.
        self.assertIn("cannot listen on 127.0.0.1:%d" % holder.getsockname()[1], result.stderr)


if __name__ == "__main__":
    unittest.main()
