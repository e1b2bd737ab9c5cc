"""Active health checks through the real binary: an http check whose endpoint turns to 500 takes
its server out after `fall` failed checks and brings it back after `rise` good ones (with the
connection kept between checks and without); a black-holed server (connections neither complete
nor are refused) is taken out by timeouts; http checks, plain or over TLS, share one connection
per server unless `reuse_connection: false`.

The proxy's transition log lines and the backends' own request logs are the evidence: each
check is a real request the backend records."""

import re
import socket
import time
import unittest

from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until
from tls_helpers import cert, key, make_certs, remove_certs

FALL = 3
RISE = 2


def setUpModule():
    make_certs()


def tearDownModule():
    remove_certs()


def health_answers(backend):
    """Statuses `backend` answered its health checks with, in order."""
    return [e["status"] for _, e in backend.events("health")]


def health_connections(backend):
    """The backend's connection number of each health check it answered, in order."""
    return [e["conn"] for _, e in backend.events("health")]


def trailing(statuses, status):
    """How many of the last answers in a row were `status`."""
    n = 0
    for s in reversed(statuses):
        if s != status:
            break
        n += 1
    return n


def log_time(proxy, pattern, timeout=10):
    """Monotonic time at which the proxy logged a line matching `pattern` (waits for it)."""
    regex = re.compile(pattern)
    return proxy.stdout.wait_for(
        lambda lines: next((t for t, line in lines if regex.search(line)), None), timeout,
        "log line /%s/" % pattern)


def served_by(port, count, path="/who"):
    """X-Backend of `count` sequential requests through the proxy."""
    names = []
    for _ in range(count):
        r = get(port, path)
        if r.status != 200:
            raise AssertionError("status %d: %r" % (r.status, r))
        names.append(r.header("X-Backend"))
    return names


class BlackHole:
    """A listener that never accepts, with its backlog full: new connections hang in SYN_SENT
    (the kernel drops their SYNs), as with a host gone from the network."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.fillers = []
        for _ in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(s)

    def close(self):
        for s in self.fillers:
            s.close()
        self.listener.close()


class HealthCheckTest(ProxyTestCase):
    def test_http_check_takes_server_out_after_fall_and_back_after_rise(self):
        self.check_fall_and_rise(reuse_connection=True)

    def test_fall_and_rise_are_the_same_with_a_connection_per_check(self):
        self.check_fall_and_rise(reuse_connection=False)

    def check_fall_and_rise(self, reuse_connection):
        a, b = self.start_backend("a"), self.start_backend("b")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [a, b], panic_threshold=0, health_check={
                "type": "http", "path": "/health", "interval": "300ms",
                "fast_interval": "100ms", "timeout": "500ms", "jitter": "0%",
                "rise": RISE, "fall": FALL, "reuse_connection": reuse_connection})]))
        port = proxy.port("web")
        wait_until(lambda: health_answers(a) and health_answers(b), 5,
                   message="both backends checked")
        self.assertEqual(set(served_by(port, 4)), {"a", "b"})

        get(a.port, "/set-health/500")
        log_time(proxy, r"cluster app: server %s is down by health checks: %d failed in a row, "
                        r"last: status 500" % (re.escape(a.address), FALL))
        # Every answer a logged before the proxy's line is read now; a check every 100 ms
        # leaves room for at most one more after the one that took the server down.
        a.sync()
        failed = trailing(health_answers(a), 500)
        self.assertGreaterEqual(failed, FALL, "down only after `fall` failed checks")
        self.assertLessEqual(failed, FALL + 1, "and not many more")
        a.sync()
        before = len(a.requests())
        self.assertEqual(served_by(port, 10), ["b"] * 10)
        a.sync()
        self.assertEqual([e["path"] for e in a.requests()[before:]
                          if e["path"] not in ("/health", "/sync")],
                         [], "no request reaches a server down by checks")

        get(a.port, "/set-health/200")
        log_time(proxy, r"cluster app: server %s is up by health checks: %d passed in a row"
                        % (re.escape(a.address), RISE))
        a.sync()
        passed = trailing(health_answers(a), 200)
        self.assertGreaterEqual(passed, RISE, "up only after `rise` good checks")
        self.assertLessEqual(passed, RISE + 1)
        wait_until(lambda: "a" in served_by(port, 4), 5, message="a serving again")
        self.stop_proxy(proxy)

    def test_black_holed_server_is_detected_by_timeouts(self):
        b = self.start_backend("b")
        hole = BlackHole()
        self.addCleanup(hole.close)
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [hole.address, b], timeouts={"connect": "3s"}, panic_threshold=0,
                     health_check={"type": "tcp", "interval": "300ms", "fast_interval": "100ms",
                                   "timeout": "200ms", "fall": 2})]))
        log_time(proxy, r"cluster app: server %s is down by health checks: 2 failed in a row, "
                        r"last: timeout after 200ms" % re.escape(hole.address))
        # Out of rotation: no request waits on the hole's 3 s connect timeout.
        port = proxy.port("web")
        for _ in range(6):
            started = time.monotonic()
            self.assertEqual(served_by(port, 1), ["b"])
            self.assertLess(time.monotonic() - started, 1.0)
        self.stop_proxy(proxy)

    def test_initial_state_down_keeps_servers_out_until_checks_pass(self):
        a = self.start_backend("a")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [a], panic_threshold=0, health_check={
                "type": "http", "path": "/health", "interval": "2s", "fast_interval": "1s",
                "initial_state": "down", "rise": 2})]))
        # Two checks a second apart are needed: until then the only server is down, so a
        # request gets 503 and is never forwarded.
        first = get(proxy.port("web"), "/early")
        log_time(proxy, r"server %s is up by health checks" % re.escape(a.address))
        self.assertEqual(first.status, 503)
        a.sync()
        self.assertNotIn("/early", [e["path"] for e in a.requests()])
        self.assertEqual(served_by(proxy.port("web"), 2), ["a", "a"])
        self.stop_proxy(proxy)

    def checked_connections(self, backend, checks):
        """Connections of `backend`'s first `checks` health checks (waits for them)."""
        wait_until(lambda: len(health_connections(backend)) >= checks, 10,
                   message="%d checks of %s" % (checks, backend.id))
        return health_connections(backend)[:checks]

    def checks_config(self, backends, **extra):
        check = {"type": "http", "path": "/health", "interval": "100ms", "jitter": "0%"}
        check.update(extra.pop("health_check", {}))
        return config([http_listener("web", "app")],
                      [cluster("app", backends, health_check=check, **extra)])

    def test_http_checks_reuse_one_connection_per_server_by_default(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        proxy = self.start_proxy(self.checks_config([a, b]))
        self.assertEqual(len(set(self.checked_connections(a, 8))), 1)
        self.assertEqual(len(set(self.checked_connections(b, 8))), 1)
        self.stop_proxy(proxy)

    def test_reuse_connection_false_opens_a_connection_per_check(self):
        a = self.start_backend("a")
        proxy = self.start_proxy(self.checks_config(
            [a], health_check={"reuse_connection": False}))
        self.assertEqual(len(set(self.checked_connections(a, 8))), 8)
        self.stop_proxy(proxy)

    def test_http_checks_over_tls_reuse_their_connection(self):
        a = self.start_backend("a", tls=(cert("localhost"), key("localhost")))
        proxy = self.start_proxy(self.checks_config(
            ["127.0.0.1:%d" % a.port], tls={"ca_file": cert("ca")},
            health_check={"initial_state": "down", "rise": 1}))
        log_time(proxy, r"server 127.0.0.1:%d is up by health checks" % a.port)
        self.assertEqual(len(set(self.checked_connections(a, 8))), 1)
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
