"""Passive failover: a backend is SIGKILLed under a steady stream of GETs. No GET may fail (those
in flight when it dies are replayed: the cluster's retry_on lists reset_before_response); the
dead server is skipped for offline_timeout after each failure (then tried once, and skipped
again while still dead); once restarted on the same port it serves again.

Timing is read from the proxy's access log (records with retries >= 1 are requests that met the
dead server first) and from the restarted backend's own connection log."""

import http.client
import threading
import time
import unittest

from harness import ProxyTestCase, Backend, cluster, config, http_listener, wait_until

OFFLINE = 2.0
SLACK = 0.3  # Log lines reach the test a little after the event they record (more under load).


class LoadGenerator:
    """Threads sending GETs on keep-alive connections, paced, recording every outcome."""

    def __init__(self, port, threads=4, pause=0.005):
        self.port = port
        self.pause = pause
        self.results = []  # (monotonic time, status or exception text, X-Backend)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]
        for thread in self.threads:
            thread.start()

    def _run(self, index):
        conn = None
        n = 0
        while not self.stopping.is_set():
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/load/%d/%d" % (index, n))
                response = conn.getresponse()
                response.read()
                outcome = (time.monotonic(), response.status, response.getheader("X-Backend"))
            except Exception as e:  # Any failure is a test failure; keep a readable record.
                outcome = (time.monotonic(), "%s: %s" % (type(e).__name__, e), None)
                conn.close()
                conn = None
            with self.lock:
                self.results.append(outcome)
            self.stopping.wait(self.pause)
        if conn is not None:
            conn.close()

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(15)


class FailoverTest(ProxyTestCase):
    def test_killed_backend_is_skipped_then_retried_and_rejoins(self):
        b1, b2, b3 = (self.start_backend(name) for name in ("b1", "b2", "b3"))
        proxy = self.start_proxy(config(
            [http_listener("web", "app")],
            [cluster("app", [b1, b2, b3], passive={"attempts": 1, "offline_timeout": "2s"},
                     # GETs in flight when b2 dies are reset: replayed, so none fails.
                     retries=2, retry_on=["connect_failure", "reset_before_response"],
                     timeouts={"connect": "1s", "response": "5s"})]))
        load = LoadGenerator(proxy.port("web"))
        self.addCleanup(load.stop)
        wait_until(lambda: {r[2] for r in load.snapshot()} >= {"b1", "b2", "b3"}, 10,
                   message="all three backends answering")

        t_kill = time.monotonic()
        b2.kill()

        def retried(after):
            return [t for t, line in proxy.stdout.lines()
                    if t > after and '"retries":' in line and '"retries":0' not in line]

        first = proxy.stdout.wait_for(lambda _: retried(t_kill), 5, "a retried request")[0]
        # The burst: requests that met b2 as it died. Then b2 is offline: no retries at all
        # until its trial, one offline_timeout after the last failure.
        trial = proxy.stdout.wait_for(lambda _: retried(first + 0.5), OFFLINE + 3,
                                      "the trial of the dead server")[0]
        burst = [t for t in retried(t_kill) if t < trial]
        self.assertLess(max(burst) - first, 0.5, "failures spread out: %s" % burst)
        self.assertGreaterEqual(trial - max(burst), OFFLINE - SLACK,
                                "dead server tried again before offline_timeout")
        self.assertLess(trial - max(burst), OFFLINE + 1.5, "dead server not retried in time")

        # Restart on the same port: the proxy must not connect before the offline period that
        # the failed trial started is over, and must connect soon after it.
        restarted = Backend("b2", port=b2.port)
        self.addCleanup(restarted.stop)
        self._outputs.append(lambda: "--- restarted b2 ---\n" + restarted.output.text())
        t_restart = time.monotonic()
        first_conn = restarted.output.wait_for(
            lambda _: [t for t, e in restarted.events("conn")], OFFLINE + 3,
            "a connection to the restarted backend")[0]
        self.assertGreaterEqual(first_conn, trial + OFFLINE - SLACK,
                                "connection attempt during the offline period")
        self.assertLess(first_conn, max(t_restart, trial) + OFFLINE + 1.5)
        wait_until(lambda: [r for r in load.snapshot() if r[0] > first_conn and r[2] == "b2"],
                   5, message="answers from the restarted b2")
        after = len(load.snapshot())
        wait_until(lambda: len(load.snapshot()) >= after + 30, 5, message="more traffic")

        load.stop()
        results = load.snapshot()
        failures = [r for r in results if r[1] != 200]
        self.assertEqual(failures, [], "%d of %d GETs failed" % (len(failures), len(results)))
        self.assertTrue(restarted.requests(), "the restarted b2 served nothing")
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
