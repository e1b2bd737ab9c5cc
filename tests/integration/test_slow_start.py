"""Slow start through the real binary: a server that health checks bring back up is not given its
full share at once; its share of the requests ramps up over `slow_start`.

Two servers under round robin: a warming server is admitted with its ramp factor f (10% rising
linearly to 100%) when its turn comes, and the other server serves in its place otherwise, so
its share is f / (1 + f), from about 9% towards 50%. The test counts who served each request
in one-second windows after the "up" log line and checks the trend with loose bounds, so that a
loaded machine does not fail it."""

import re
import threading
import time
import unittest

from harness import ProxyTestCase, cluster, config, get, http_listener

SLOW_START_S = 4
WINDOW_S = 1.0


def log_time(proxy, pattern, timeout=10):
    regex = re.compile(pattern)
    return proxy.stdout.wait_for(
        lambda lines: next((t for t, line in lines if regex.search(line)), None), timeout,
        "log line /%s/" % pattern)


def shares_by_window(port, start, windows, name, threads=4):
    """Share of requests served by `name` in each WINDOW_S window after monotonic `start`,
    requests sent back to back by `threads` clients (so a slow or loaded machine still gets
    enough per window) until the last window ends."""
    served = [[0, 0] for _ in range(windows)]  # [by name, all] per window
    lock = threading.Lock()
    errors = []

    def client():
        while True:
            now = time.monotonic()
            index = int((now - start) // WINDOW_S)
            if index >= windows:
                return
            r = get(port, "/who")
            if r.status != 200:
                errors.append("status %d: %r" % (r.status, r))
                return
            with lock:
                served[index][0] += r.header("X-Backend") == name
                served[index][1] += 1

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(windows * WINDOW_S + 30)
    if errors:
        raise AssertionError(errors[0])
    for mine, total in served:
        if total < 40:
            raise AssertionError("too few requests per window to judge a share: %r" % served)
    return [mine / total for mine, total in served], served


class SlowStartTest(ProxyTestCase):
    def test_returning_server_share_ramps_up_over_slow_start(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [a, b], panic_threshold=0, slow_start="%ds" % SLOW_START_S,
                     health_check={"type": "http", "path": "/health", "interval": "200ms",
                                   "fast_interval": "100ms", "timeout": "500ms",
                                   "jitter": "0%", "rise": 1, "fall": 1})]))
        port = proxy.port("web")
        get(a.port, "/set-health/500")
        log_time(proxy, r"cluster app: server %s is down by health checks" % re.escape(a.address))
        get(a.port, "/set-health/200")
        up = log_time(proxy, r"cluster app: server %s is up by health checks"
                             % re.escape(a.address))

        # The ramp's windows, then one after it is over.
        windows = SLOW_START_S + 1
        shares, served = shares_by_window(port, up, windows, "a")
        message = "a's share per %.0f s window after coming back: %s (a, all: %r)" % (
            WINDOW_S, ["%.2f" % s for s in shares], served)
        # Measured on an idle machine: 0.17, 0.30, 0.40, 0.47, then 0.50 (f / (1 + f) averaged).
        self.assertLess(shares[0], 0.25, "no jump to the full share: " + message)
        self.assertGreater(shares[0], 0.0, "some traffic at once (ramp starts at 10%): " + message)
        self.assertGreater(shares[SLOW_START_S - 1], shares[0] + 0.12, message)
        self.assertGreater(shares[-1], 0.38, "full share after slow_start: " + message)
        for earlier, later in zip(shares, shares[1:]):
            self.assertGreater(later, earlier - 0.1, "rising: " + message)
        self.assertGreater(sum(shares[SLOW_START_S // 2:]) / (windows - SLOW_START_S // 2),
                           sum(shares[:SLOW_START_S // 2]) / (SLOW_START_S // 2) + 0.1, message)
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
