"""Process harness for the fulcrum integration tests: start backends and the proxy, wait for them
with deadlines (never fixed sleeps), talk raw HTTP, and stop everything cleanly.

The fulcrum binary comes from $FULCRUM_BIN (CTest sets it to the built target). Run all with
`ctest -L integration -j2` in a build directory, or one file by hand:
  cd tests/integration && FULCRUM_BIN=../../build/X/bin/fulcrum python3 -m unittest -v test_failover
"""

import collections
import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LISTENER_LINE = re.compile(r"listener (\S+) \((http|tcp)\) on (\S+):(\d+) with (\d+) workers")


def fulcrum_bin():
    path = os.environ.get("FULCRUM_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set FULCRUM_BIN to the fulcrum executable (ctest does this); got %r"
                           % path)
    return path


def wait_until(predicate, timeout, interval=0.01, message="condition"):
    """Polls `predicate` until it returns a truthy value; raises AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


class OutputCollector:
    """Reads a pipe line by line on a thread, keeping (monotonic time, line) pairs."""

    def __init__(self, pipe, name):
        self.name = name
        self._lines = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self._cond:
                self._lines.append((time.monotonic(), raw.decode("utf-8", "replace").rstrip("\n")))
                self._cond.notify_all()
        pipe.close()

    def lines(self):
        with self._cond:
            return list(self._lines)

    def text(self):
        return "\n".join(line for _, line in self.lines())

    def wait_for(self, predicate, timeout, what):
        """Waits until predicate(list of (time, line)) is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self._lines)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("timed out after %.1fs waiting for %s in %s output"
                                         % (timeout, what, self.name))
                self._cond.wait(left)

    def join(self, timeout=5):
        self._thread.join(timeout)


class Backend:
    """backend.py as a subprocess; its JSON event lines are kept for assertions."""

    def __init__(self, backend_id, port=0, drop=False, tcp_echo=False, host="127.0.0.1",
                 tls=None):
        self.id = backend_id
        args = [sys.executable, os.path.join(HERE, "backend.py"), "--id", backend_id,
                "--port", str(port), "--host", host]
        if tls:  # (certificate file, key file): the backend serves TLS.
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        if drop:
            args.append("--drop")
        if tcp_echo:
            args.append("--tcp-echo")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        self.output = OutputCollector(self.process.stdout, "backend " + backend_id)
        event = self.output.wait_for(lambda lines: self._listening(lines), 10, "listening")
        self.port = event["port"]
        self.host = host
        self.address = "%s:%d" % (host, self.port)

    @staticmethod
    def _listening(lines):
        for _, line in lines:
            if line.startswith("{") and '"listening"' in line:
                return json.loads(line)
        return None

    def events(self, kind=None):
        """Events as (time, dict), optionally only those of one kind."""
        out = []
        for t, line in self.output.lines():
            if line.startswith("{"):
                event = json.loads(line)
                if kind is None or event["event"] == kind:
                    out.append((t, event))
        return out

    def requests(self):
        return [event for _, event in self.events("request")]

    def sync(self, timeout=5):
        """Returns once every event this backend logged before now has been read: a marker
        request sent straight to it is logged after them, on the same pipe."""
        marker = "sync-%s" % uuid.uuid4()
        with connect(self.port, timeout, self.host) as sock:
            sock.sendall(b"GET /sync HTTP/1.1\r\nHost: b\r\nConnection: close\r\n"
                         b"X-Request-Id: %s\r\n\r\n" % marker.encode())
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass  # A --drop backend closes without answering; the marker was logged.
        self.output.wait_for(lambda _: any(e["id"] == marker for e in self.requests()),
                             timeout, "sync marker")

    def kill(self):
        self.process.kill()
        self.process.wait(5)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.output.join()


def to_yaml(value, indent=0):
    """A tiny YAML emitter for the nested dicts/lists/scalars the tests build."""
    pad = " " * indent
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append("%s%s:\n%s" % (pad, key, to_yaml(item, indent + 2)))
            else:
                out.append("%s%s: %s" % (pad, key, scalar(item)))
        return "\n".join(out)
    if isinstance(value, list):
        out = []
        for item in value:
            text = to_yaml(item, indent + 2)
            out.append("%s- %s" % (pad, text.lstrip()))
        return "\n".join(out)
    return pad + scalar(value)


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dict, list)):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(str(value))  # A JSON string is a valid double-quoted YAML scalar.


def http_listener(name, cluster, **extra):
    listener = {"name": name, "listen": "127.0.0.1:0", "mode": "http", "cluster": cluster}
    listener.update(extra)
    return listener


def cluster(name, backends, policy="round_robin", weights=None, **extra):
    """`weights`: one per backend, in order (each server's `weight`); None leaves the default."""
    servers = [{"address": b.address if isinstance(b, Backend) else b} for b in backends]
    for server, weight in zip(servers, weights or ()):
        server["weight"] = weight
    item = {"name": name, "policy": policy, "servers": servers}
    item.update(extra)
    return item


def config(listeners, clusters, workers=2, **extra):
    """A whole configuration; access log as JSON lines on stdout unless overridden."""
    doc = {"workers": workers, "listeners": listeners, "clusters": clusters,
           "access_log": {"enabled": True, "format": "json", "path": "stdout"},
           "drain_timeout": "10s"}
    doc.update(extra)
    return doc


class Proxy:
    """fulcrum -c CONFIG as a subprocess, with its listeners' ports read from its log."""

    def __init__(self, doc, start_timeout=10, command_prefix=(), config_path=None):
        """`config_path`: write the configuration there (e.g. where an earlier proxy ran, to
        restart on its files) instead of in a fresh temporary directory."""
        self._dir = tempfile.TemporaryDirectory(prefix="fulcrum-integ-")
        self.config_path = config_path or os.path.join(self._dir.name, "fulcrum.yaml")
        self.config_text = to_yaml(doc) + "\n"
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.process = subprocess.Popen([*command_prefix, fulcrum_bin(), "-c", self.config_path],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self.stdout = OutputCollector(self.process.stdout, "fulcrum stdout")
        self.stderr = OutputCollector(self.process.stderr, "fulcrum stderr")
        count = len(doc["listeners"])
        try:
            found = self.stdout.wait_for(
                lambda lines: self._ports(lines, count) or self.process.poll() is not None,
                start_timeout, "%d listener lines" % count)
            if found is True:
                raise AssertionError("fulcrum exited with %s before listening"
                                     % self.process.wait(5))
        except AssertionError as e:
            self.cleanup()
            raise AssertionError("%s\n%s" % (e, self.dump())) from None
        self.ports = found

    @staticmethod
    def _ports(lines, count):
        ports = {}
        for _, line in lines:
            match = LISTENER_LINE.search(line)
            if match:
                ports[match.group(1)] = int(match.group(4))
        return ports if len(ports) >= count else None

    def port(self, name):
        return self.ports[name]

    def access_log(self):
        """Access records (dicts) in the order the proxy wrote them."""
        return [json.loads(line) for _, line in self.stdout.lines()
                if line.startswith("{") and '"listener"' in line]

    def wait_access_log(self, count, timeout=5):
        """The access records once at least `count` have been written."""
        return wait_until(lambda: len(self.access_log()) >= count and self.access_log(),
                          timeout, message="%d access log records" % count)

    def terminate(self, timeout=15):
        """SIGTERM; returns the exit status (killing the process if it does not exit in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError("fulcrum did not exit within %ss of SIGTERM" % timeout)
        finally:
            self.stdout.join()
            self.stderr.join()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def logs(self):
        """Everything fulcrum has logged so far, stdout then stderr."""
        return self.stdout.text() + self.stderr.text()

    def dump(self):
        return ("--- fulcrum config ---\n%s--- fulcrum stdout ---\n%s\n--- fulcrum stderr ---\n%s\n"
                % (self.config_text, self.stdout.text(), self.stderr.text()))

    def cleanup(self):
        self.kill()
        self.stdout.join()
        self.stderr.join()
        self._dir.cleanup()


class ProxyTestCase(unittest.TestCase):
    """Starts processes with automatic cleanup; prints their output when the test fails."""

    def setUp(self):
        self._outputs = []

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for dump in getattr(self, "_outputs", []):
                sys.stderr.write(dump() + "\n")
        return result

    def start_backend(self, backend_id, **kwargs):
        backend = Backend(backend_id, **kwargs)
        self.addCleanup(backend.stop)
        self._outputs.append(lambda: "--- backend %s ---\n%s" % (backend.id,
                                                                 backend.output.text()))
        return backend

    def start_proxy(self, doc, **kwargs):
        proxy = Proxy(doc, **kwargs)
        self.addCleanup(proxy.cleanup)
        self._outputs.append(proxy.dump)
        return proxy

    def stop_proxy(self, proxy):
        """SIGTERM and assert a clean exit (status 0)."""
        status = proxy.terminate()
        self.assertEqual(status, 0, "fulcrum exit status after SIGTERM")


# --- raw HTTP client pieces -------------------------------------------------------------------

def connect(port, timeout=10, host="127.0.0.1"):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "Response(%d %s, %r, %r)" % (self.status, self.reason, self.headers,
                                            self.body[:200])


def read_response(rfile, method="GET"):
    """Reads one response from a buffered socket file; None on a clean EOF before any byte."""
    line = rfile.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        header = rfile.readline().decode("latin-1").rstrip("\r\n")
        if not header:
            break
        name, value = header.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body = b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(rfile.readline().split(b";")[0], 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b""):
                    pass
                break
            chunks.append(rfile.read(size))
            rfile.read(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        body = rfile.read(int(headers["content-length"]))
    else:
        body = rfile.read()
    return Response(status, parts[2] if len(parts) > 2 else "", headers, body)


def read_until_eof(sock, timeout=5):
    """All bytes until the peer closes; raises AssertionError if it does not within `timeout`."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            raise AssertionError("connection not closed within %ss; got %r" % (timeout, data))
        except ConnectionResetError:
            raise AssertionError("connection reset instead of closed cleanly; got %r" % data)
        if not chunk:
            return data
        data += chunk
        if time.monotonic() > deadline:
            raise AssertionError("connection not closed within %ss; got %r" % (timeout, data))


def get(port, path, headers=None, method="GET", body=None, timeout=10):
    """One request on a fresh connection (Connection: close); returns a Response."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        all_headers = {"Connection": "close"}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        r = conn.getresponse()
        return Response(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def served(port, count, path="/"):
    """The X-Backend of each of `count` GETs through the proxy; any other status than 200 fails."""
    out = []
    for _ in range(count):
        response = get(port, path)
        if response.status != 200:
            raise AssertionError("GET %s answered %r" % (path, response))
        out.append(response.header("x-backend"))
    return out


def picks_by_key(port, path, keys, header="X-User"):
    """{key: X-Backend} for one GET per key, the key in `header`; any status but 200 fails."""
    out = {}
    for key in keys:
        response = get(port, path, headers={header: key})
        if response.status != 200:
            raise AssertionError("GET %s for %s answered %r" % (path, key, response))
        out[key] = response.header("X-Backend")
    return out


# --- distribution: how a policy spreads requests over its servers -------------------------------

def closed_port_address():
    """A loopback address nobody listens on (a port the kernel handed out, then closed): a dead
    server, whose connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return "127.0.0.1:%d" % sock.getsockname()[1]


def wait_down_by_checks(proxy, cluster_name, address, timeout=15):
    """Returns once the proxy has logged that active checks took `address` out of the cluster."""
    line = "cluster %s: server %s is down by health checks" % (cluster_name, address)
    proxy.stdout.wait_for(lambda lines: any(line in text for _, text in lines), timeout,
                          "'%s'" % line)


def served_on_one_connection(port, count, path="/", headers_for=lambda i: {}, timeout=30):
    """X-Backend of `count` GETs sent one at a time on one keep-alive connection; any status but
    200 fails. `headers_for(i)`: extra headers of request i."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        names = []
        for i in range(count):
            conn.request("GET", path, headers=headers_for(i))
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise AssertionError("GET %s (request %d) answered %d: %r"
                                     % (path, i, response.status, body[:200]))
            names.append(response.getheader("X-Backend"))
        return names
    finally:
        conn.close()


def served_concurrently(port, clients, per_client, path="/", timeout=30,
                        headers_for=lambda client, i: {}):
    """X-Backend of every answer when `clients` threads, started together, each send `per_client`
    GETs one at a time on their own keep-alive connection (so `clients` requests overlap), in
    client order. `headers_for(client, i)`: extra headers of that client's request i."""
    start = threading.Barrier(clients)
    results = [None] * clients

    def client(slot):
        try:
            start.wait(timeout)
            results[slot] = served_on_one_connection(
                port, per_client, path, headers_for=lambda i: headers_for(slot, i),
                timeout=timeout)
        except Exception as e:  # Re-raised below, in the test's thread.
            results[slot] = e

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 2)
    names = []
    for result in results:
        if not isinstance(result, list):
            raise AssertionError("a concurrent client failed: %r" % (result,))
        names += result
    return names


def shares_of(names, servers):
    """{server: share of `names`} for each of `servers` (X-Backend ids); an answer from any other
    server fails."""
    counts = collections.Counter(names)
    strangers = set(counts) - set(servers)
    if strangers:
        raise AssertionError("answers from unexpected servers %s: %s" % (strangers, counts))
    return {server: counts[server] / len(names) for server in servers}


def binomial_tolerance(share, count, sigmas=4.5):
    """How far the measured share of a server picked with probability `share` in each of `count`
    independent picks may stray: `sigmas` binomial standard deviations (4.5: a correct policy
    fails about once in 150,000 comparisons)."""
    return sigmas * math.sqrt(share * (1 - share) / count)


class ShareTable:
    """Measured shares, one row per case, printed to stderr as a table for docs/balancing.md."""

    def __init__(self):
        self.rows = []

    def add(self, policy, scenario, traffic, shares, count):
        self.rows.append((policy, scenario, traffic, str(count), format_shares(shares)))

    def print(self, stream=None):
        stream = stream or sys.stderr
        stream.write("\n")  # After unittest's progress dots.
        header = ("policy", "scenario", "traffic", "requests", "shares")
        widths = [max(len(row[k]) for row in self.rows + [header]) for k in range(4)]
        for row in [header] + self.rows:
            stream.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4]
                         + "\n")
        stream.flush()


# The distribution tests' three live servers, and the check that takes their dead fourth out:
# one refused connection, while live servers answer every check.
LIVE = ["b1", "b2", "b3"]
DEAD_SERVER_CHECK = {"type": "tcp", "interval": "200ms", "timeout": "1s", "fall": 1,
                     "jitter": "0%"}


class DistributionTestCase(ProxyTestCase):
    """Measures shares through the proxy and records each case in the class's ShareTable,
    printed once the class's tests are done."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = ShareTable()

    @classmethod
    def tearDownClass(cls):
        cls.table.print()
        super().tearDownClass()

    def measure(self, policy, scenario, traffic, names, servers):
        shares = shares_of(names, servers)
        self.table.add(policy, scenario, traffic, shares, len(names))
        return shares

    def assert_shares_near(self, shares, expected, tolerance, what):
        """Each server's share within `tolerance` (a number, or a function of the expected share)
        of `expected`; one failure lists every share."""
        wrong = []
        for server, want in expected.items():
            allowed = tolerance(want) if callable(tolerance) else tolerance
            if abs(shares[server] - want) > allowed:
                wrong.append("%s %.3f, expected %.3f +- %.3f" % (server, shares[server], want,
                                                                 allowed))
        if wrong:
            self.fail("%s: %s (all shares: %s)" % (what, "; ".join(wrong), format_shares(shares)))


def format_shares(shares):
    return " ".join("%s %.3f" % item for item in shares.items())
