"""Overload and slow clients: tens of thousands of connections on one listener, thousands of
slowloris clients next to normal ones, a listener's connection limit, running out of file
descriptors, and the memory an idle keep-alive connection costs. Fulcrum must stay up, keep
serving, and recover once the load drops.

The connections come from load_clients.py processes (a process holds at most RLIMIT_NOFILE
descriptors). Against a sanitizer build (ASan/TSan libraries mapped into fulcrum) the counts are
divided by SANITIZER_SCALE: such a build spends several times the CPU and memory per
connection, and the point there is the absence of errors, not the scale. The numbers each test
measures are printed; docs/reliability.md records the latest ones."""

import json
import math
import os
import resource
import subprocess
import sys
import time
import unittest

from harness import (HERE, OutputCollector, ProxyTestCase, cluster, config, connect, get,
                     http_listener, wait_until)

SANITIZER_SCALE = 4
WORKERS = 2  # harness.config's default: one accept loop per worker and listener.
PARTIAL_HEAD = b"GET /held HTTP/1.1\r\nHost: t\r\n"
# Whole requests sent at once only where fulcrum must not pass them on: the Python backend's
# listen backlog (128) cannot take hundreds of connections at once. Elsewhere a request is
# completed ("finish") at most 50 at a time.
FULL_REQUEST = b"GET /over-the-limit HTTP/1.1\r\nHost: t\r\n\r\n"


class LoadClients:
    """load_clients.py as a subprocess: one JSON answer per command."""

    sources = 0  # Each process its own loopback address: ephemeral ports are per address.

    def __init__(self, port):
        LoadClients.sources += 1
        source = "127.0.0.%d" % (10 + LoadClients.sources % 240)
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "load_clients.py"), "--port", str(port),
             "--source", source],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = OutputCollector(self.process.stdout, "load clients")
        self.answers = 0
        try:
            self.fd_limit = self.wait(30)["fd_limit"]  # Python starts slowly on a loaded box.
        except AssertionError as e:
            self.stop()
            raise AssertionError("%s:\n%s" % (e, self.output.text())) from None

    def send(self, command):
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()

    def wait(self, timeout):
        """The next answer."""
        index = self.answers
        self.output.wait_for(lambda lines: len(self._answers(lines)) > index, timeout,
                             "load clients answer %d" % index)
        self.answers += 1
        return json.loads(self._answers(self.output.lines())[index])

    @staticmethod
    def _answers(lines):
        return [line for _, line in lines if line.startswith("{")]

    def answered(self):
        """How many answers have arrived (waited for or not)."""
        return len(self._answers(self.output.lines()))

    def command(self, command, timeout=120):
        self.send(command)
        return self.wait(timeout)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process.stdin.close()
        self.output.join()


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def client_connections(pid, port):
    """Connected sockets that process `pid` holds on local port `port` (its listener's clients),
    from its descriptors' inodes and the kernel's TCP table."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue  # Closed meanwhile.
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    with open("/proc/%d/net/tcp" % pid) as f:
        next(f)
        for line in f:
            fields = line.split()
            # local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the inode.
            if (int(fields[1].split(":")[1], 16) == port and fields[3] != "0A" and
                    fields[9] in inodes):
                count += 1
    return count


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_files_limit(pid):
    """(soft, hard) RLIMIT_NOFILE of a running process."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no open files limit for %d" % pid)


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return any(lib in maps for lib in ("libasan", "libtsan", "libubsan"))


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(math.ceil(fraction * len(ordered))) - 1)]


class OverloadTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        # The test process itself only holds the few sockets of its own requests; the load
        # comes from child processes, which inherit the raised soft limit.
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.hard_fd_limit = hard

    def start_clients(self, port):
        clients = LoadClients(port)
        self.addCleanup(clients.stop)
        self._outputs.append(lambda: "--- load clients ---\n" + clients.output.text())
        return clients

    def start(self, listener_extra, command_prefix=()):
        self.backend = self.start_backend("b1")
        proxy = self.start_proxy(config([http_listener("web", "app", **listener_extra)],
                                        [cluster("app", [self.backend])]),
                                 command_prefix=command_prefix)
        self.scale = SANITIZER_SCALE if sanitized(proxy.process.pid) else 1
        return proxy

    def wait_clients(self, proxy, predicate, what, timeout=60):
        """Waits until predicate(number of client connections fulcrum holds) is true."""
        wait_until(lambda: predicate(client_connections(proxy.process.pid, proxy.port("web"))),
                   timeout, interval=0.2, message="fulcrum holding %s client connections" % what)

    def test_20000_concurrent_connections(self):
        # Fulcrum starts with a soft limit of 1024 and must raise it to the hard limit itself.
        proxy = self.start({"limits": {"max_connections": 100000},
                            "timeouts": {"client_header": "300s", "client_idle": "300s"}},
                           command_prefix=("prlimit", "--nofile=1024:%d" % self.hard_fd_limit))
        pid = proxy.process.pid
        self.assertEqual(open_files_limit(pid), (self.hard_fd_limit, self.hard_fd_limit))
        self.assertIn("open files limit raised from 1024 to %d" % self.hard_fd_limit,
                      proxy.stdout.text())
        # 20,000, unless fulcrum's hard limit cannot hold them and their upstream connections
        # (this container: a hard limit of 20,000 that only CAP_SYS_RESOURCE could raise).
        target = min(20000, self.hard_fd_limit - 200) // self.scale
        per_process = self.hard_fd_limit - 100
        groups = [self.start_clients(proxy.port("web")) for _ in range(math.ceil(target /
                                                                                 per_process))]
        start = time.monotonic()
        share = [target // len(groups) + (i < target % len(groups)) for i in range(len(groups))]
        for clients, count in zip(groups, share):
            clients.send("open %d %r" % (count, PARTIAL_HEAD))
        connect_seconds = 0
        for clients, count in zip(groups, share):
            result = clients.wait(120)
            self.assertEqual((result["open"], result["failed"]), (count, 0), result)
            connect_seconds = max(connect_seconds, result["seconds"])
        self.wait_clients(proxy, lambda n: n == target, target)
        accepted_in = time.monotonic() - start
        # A sample (1 in 100) completes its request; every one is answered.
        sample_start = time.monotonic()
        answered = 0
        for clients in groups:
            result = clients.command("finish 100 %r" % b"\r\n")
            self.assertEqual(result["closed"], 0, result)
            self.assertEqual(set(result["statuses"]), {"200"}, result)
            answered += result["answered"]
        self.assertEqual(answered, sum(math.ceil(count / 100) for count in share))
        sample_seconds = time.monotonic() - sample_start
        peak_rss = rss_kib(pid)
        self.assertEqual(get(proxy.port("web"), "/fresh").status, 200)
        for clients in groups:
            self.assertEqual(clients.command("count")["open"], share[groups.index(clients)])
            clients.command("close")
        self.wait_clients(proxy, lambda n: n == 0, "no")
        print("\n%d concurrent connections (fd hard limit %d, scale 1/%d): connected in %.1f s, "
              "all held by fulcrum after %.1f s, %d sample requests answered in %.1f s, fulcrum "
              "RSS %d MiB at the peak" % (target, self.hard_fd_limit, self.scale, connect_seconds,
                                          accepted_in, answered, sample_seconds, peak_rss // 1024),
              file=sys.stderr)
        self.assertIsNone(proxy.process.poll())
        self.stop_proxy(proxy)

    def test_out_of_file_descriptors_waits_instead_of_spinning(self):
        # Fulcrum may open 256 files; 400 clients connect. Past the limit accept() fails at once
        # with EMFILE while the connection waits in the backlog: fulcrum must pause, not spin,
        # log once, keep serving what it holds and accept again once descriptors free up.
        proxy = self.start({"timeouts": {"client_header": "300s", "client_idle": "300s"}},
                           command_prefix=("prlimit", "--nofile=256:256"))
        pid = proxy.process.pid
        clients = self.start_clients(proxy.port("web"))
        self.assertEqual(clients.command("open 400 %r" % PARTIAL_HEAD)["open"], 400)
        proxy.stdout.wait_for(lambda lines: any("accept failed" in l for _, l in lines), 30,
                              "the accept failure log")
        wait_until(lambda: fd_count(pid) >= 250, 10, message="fulcrum at its descriptor limit")
        before = cpu_seconds(pid)
        time.sleep(2)  # A measurement window, not a wait for a condition.
        busy = cpu_seconds(pid) - before
        self.assertLess(busy, 0.5, "fulcrum spent %.2f s of CPU in 2 s at EMFILE" % busy)
        failures = proxy.stdout.text().count("accept failed")
        self.assertLessEqual(failures, WORKERS, "one line per worker and episode, not per retry")
        clients.command("close")
        wait_until(lambda: "accepting again" in proxy.stdout.text(), 10, interval=0.05,
                   message="accepts resumed")
        wait_until(lambda: get(proxy.port("web"), "/after", timeout=5).status == 200, 10,
                   interval=0.1, message="a request served after the overload")
        print("\nat EMFILE: %.3f s of CPU in 2 s, %d 'accept failed' line(s)" % (busy, failures),
              file=sys.stderr)
        self.stop_proxy(proxy)

    def measure_latencies(self, port, seconds=None, until=None, at_least=200):
        """Sequential keep-alive requests; their latencies in seconds."""
        sock = connect(port)
        self.addCleanup(sock.close)
        rfile = sock.makefile("rb")
        samples = []
        end = time.monotonic() + (seconds or 0)
        while len(samples) < at_least or (until() if until else time.monotonic() < end):
            start = time.perf_counter()
            sock.sendall(b"GET /latency HTTP/1.1\r\nHost: t\r\n\r\n")
            line = rfile.readline()
            length = 0
            while (header := rfile.readline()) not in (b"\r\n", b""):
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
            rfile.read(length)
            samples.append(time.perf_counter() - start)
            self.assertTrue(line.startswith(b"HTTP/1.1 200 "), line)
        sock.close()
        return samples

    def test_5000_slowloris_clients_do_not_slow_normal_ones(self):
        proxy = self.start({"timeouts": {"client_header": "120s", "client_idle": "120s"},
                            "limits": {"max_connections": 100000}})
        port = proxy.port("web")
        slow_count = 5000 // self.scale
        self.measure_latencies(port, at_least=50)  # Warm up: pooled upstream connections.
        # Up to three rounds of (quiet window, slowloris window): other work on a shared 2-core
        # machine can spike one window's p99; a cost fulcrum pays per slow client shows in all.
        results = []
        for _ in range(3):
            quiet = self.measure_latencies(port, seconds=3)
            loaded, trickled = self.latencies_under_slowloris(proxy, slow_count)
            self.assertEqual(trickled["closed"], 0, "slow clients closed before client_header")
            quiet_p99, loaded_p99 = percentile(quiet, 0.99), percentile(loaded, 0.99)
            results.append((quiet_p99, loaded_p99))
            print("\n%d slowloris clients (%d bytes trickled): p99 %.2f ms quiet (%d requests), "
                  "%.2f ms loaded (%d requests); p50 %.2f / %.2f ms"
                  % (slow_count, trickled["trickled"], quiet_p99 * 1000, len(quiet),
                     loaded_p99 * 1000, len(loaded), percentile(quiet, 0.5) * 1000,
                     percentile(loaded, 0.5) * 1000), file=sys.stderr)
            # 1 ms floor: a sub-millisecond p99 doubles from scheduler noise alone.
            if loaded_p99 <= 2 * max(quiet_p99, 0.001):
                break
        else:
            self.fail("p99 under slowloris above twice the quiet p99 in every round: %s"
                      % ["%.2f/%.2f ms" % (q * 1000, l * 1000) for q, l in results])
        self.stop_proxy(proxy)

    def latencies_under_slowloris(self, proxy, slow_count):
        """Opens `slow_count` slow clients, measures latencies while each sends one more header
        byte every 2 s, closes them. Returns (latencies, the trickle answer)."""
        clients = self.start_clients(proxy.port("web"))
        self.assertEqual(clients.command("open %d %r" % (slow_count, PARTIAL_HEAD + b"X-Slow: "))
                         ["open"], slow_count)
        self.wait_clients(proxy, lambda n: n >= slow_count, slow_count)
        answers = clients.answers
        clients.send("trickle 6 2")
        loaded = self.measure_latencies(proxy.port("web"),
                                        until=lambda: clients.answered() <= answers)
        trickled = clients.wait(30)
        clients.command("close")
        self.wait_clients(proxy, lambda n: n == 0, "no")
        return loaded, trickled

    def test_listener_connection_limit_refuses_then_recovers(self):
        proxy = self.start({"limits": {"max_connections": 500},
                            "timeouts": {"client_header": "300s", "client_idle": "300s"}})
        port = proxy.port("web")
        limit = 500
        held = self.start_clients(port)
        self.assertEqual(held.command("open %d %r" % (limit, PARTIAL_HEAD))["open"], limit)
        self.wait_clients(proxy, lambda n: n == limit, limit)
        # 500 more, each with a whole request: every one is closed without an answer.
        over = self.start_clients(port)
        self.assertEqual(over.command("open 500 %r" % FULL_REQUEST)["open"], 500)
        refused = over.command("finish 1 %r" % b"")
        self.assertEqual((refused["answered"], refused["closed"]), (0, 500), refused)
        # The held connections are still served meanwhile.
        served = held.command("finish 10 %r" % b"\r\n")
        self.assertEqual((served["statuses"], served["closed"]), ({"200": limit // 10}, 0))
        held.command("close")
        # Load gone: new connections are served again, up to the limit.
        self.wait_clients(proxy, lambda n: n == 0, "no")
        again = self.start_clients(port)
        self.assertEqual(again.command("open %d %r" % (limit, PARTIAL_HEAD))["open"], limit)
        result = again.command("finish 1 %r" % b"\r\n")
        self.assertEqual((result["statuses"], result["closed"]), ({"200": limit}, 0), result)
        again.command("close")
        self.assertIsNone(proxy.process.poll())
        print("\nmax_connections %d: %d over the limit closed unanswered, %d served after"
              % (limit, refused["closed"], limit), file=sys.stderr)
        self.stop_proxy(proxy)

    def test_memory_per_idle_keep_alive_connection(self):
        # Heads are completed 50 at a time: client_header must outlast the slowest batch.
        proxy = self.start({"timeouts": {"client_header": "300s", "client_idle": "300s"}})
        pid = proxy.process.pid
        count = 4000 // self.scale
        warm = self.start_clients(proxy.port("web"))  # Pools, buffers and threads warmed up.
        warm.command("open 200 %r" % PARTIAL_HEAD)
        warm.command("finish 1 %r" % b"\r\n")
        warm.command("close")
        self.wait_clients(proxy, lambda n: n == 0, "no")
        before = rss_kib(pid)
        clients = self.start_clients(proxy.port("web"))
        clients.command("open %d %r" % (count, PARTIAL_HEAD))
        result = clients.command("finish 1 %r" % b"\r\n")
        self.assertEqual((result["statuses"], result["closed"]), ({"200": count}, 0), result)
        self.wait_clients(proxy, lambda n: n == count, count)
        after = rss_kib(pid)
        per_connection = (after - before) * 1024 / count
        print("\nidle keep-alive connections: %d, fulcrum RSS %d -> %d KiB: %.0f bytes each"
              % (count, before, after, per_connection), file=sys.stderr)
        # Between requests a connection holds its session and the touched page of its input
        # buffer (measured 16 KiB; 44 KiB when buffers were zero-filled). Sanitizers pad every
        # allocation.
        self.assertLess(per_connection, (24 if self.scale == 1 else 256) * 1024)
        self.assertEqual(clients.command("count")["open"], count)
        clients.command("close")
        self.stop_proxy(proxy)



if __name__ == "__main__":
    unittest.main()
