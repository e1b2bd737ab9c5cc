#!/usr/bin/env python3
"""Chaos under load: fulcrum in front of 4 real backends while a driver kills (SIGKILL), hangs
(SIGSTOP), black-holes (iptables DROP) and slows them, then brings them back.

  FULCRUM_BIN=build/release/bin/fulcrum tests/integration/chaos.py --duration 60 --summary F

Load: client threads send GET /bytes/N (the answer's SHA-256 is checked against the pattern the
backend serves) and POST /echo with a random body (the echo must be the same bytes), each with a
unique X-Request-Id. Backends log every request's id, so the analysis can tell:
  - failed GETs (any non-200, wrong or truncated body, or connection error): must be 0;
  - POSTs executed more than once (an id in two backend logs): must be 0;
  - unanswered requests (a connection closed or reset with no response): must be 0;
  - corrupted or truncated bodies, both ways: must be 0;
  - for each backend brought back: time from its return to the first new request it serves,
    which must be within one health interval plus the passive offline_timeout.
A POST answered 502/504 (its server died with the request in flight) is allowed: it is reported,
and never replayed.

Black-holing needs a network namespace of our own (so the iptables rule touches nothing else):
unless it runs in one already, the script re-runs itself under `unshare --net` (needs root or
CAP_SYS_ADMIN), brings `lo` up and keeps everything on 127.0.0.1 inside it.
"""

import argparse
import hashlib
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BACKENDS = 4
HEALTH_INTERVAL_S = 1.0
OFFLINE_TIMEOUT_S = 2.0
RECOVERY_BOUND_S = HEALTH_INTERVAL_S + OFFLINE_TIMEOUT_S
FAULTS = ["kill", "stop", "blackhole", "slow"]
SLOW_DELAY_MS = 150
IN_NAMESPACE_ENV = "FULCRUM_CHAOS_IN_NETNS"


def proxy_config(backends):
    cluster = harness.cluster("chaos", backends, policy="round_robin")
    cluster.update({
        "retries": 3,  # Every other server may be tried after a failure retry_on lists.
        # A hung (SIGSTOP) server times out GETs and a killed one resets those in flight: the
        # zero-failed-GET promise needs those replayed (POSTs never are), and passive tracking
        # to take the server out after one, as it does after a refused connect.
        "retry_on": ["connect_failure", "reset_before_response", "response_timeout"],
        "timeouts": {"connect": "300ms", "response": "1s", "idle": "10s"},
        "passive": {"attempts": 1, "offline_timeout": "%ds" % OFFLINE_TIMEOUT_S,
                    "count": ["connect_failure", "reset_before_response", "response_timeout"]},
        "health_check": {"type": "http", "path": "/health", "interval": "%ds" % HEALTH_INTERVAL_S,
                         "timeout": "500ms", "rise": 1, "fall": 2},
    })
    return harness.config([harness.http_listener("web", "chaos")], [cluster],
                          access_log={"enabled": False})


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.issued = {}  # request id -> (kind, monotonic time sent)
        self.answered = {"GET": 0, "POST": 0}
        self.failed_gets = []
        self.posts_not_ok = []  # (id, status) of POSTs answered but not 200
        self.unanswered = []
        self.corrupted = []
        self.latencies = []

    def add(self, **fields):
        with self.lock:
            for name, value in fields.items():
                getattr(self, name).append(value)


def pattern_sha(n, cache={}):
    if n not in cache:
        cache[n] = hashlib.sha256(random.Random(n).randbytes(n)).hexdigest()
    return cache[n]


def client_loop(port, index, stop, results):
    rng = random.Random(index)
    conn = None
    sequence = 0
    while not stop.is_set():
        sequence += 1
        is_post = sequence % 2 == 0
        kind = "POST" if is_post else "GET"
        request_id = "%s-%d-%d" % (kind.lower(), index, sequence)
        if is_post:
            body = rng.randbytes(rng.randint(1, 48 * 1024))
            path = "/echo"
        else:
            body = None
            size = rng.randint(1, 32 * 1024)
            path = "/bytes/%d" % size
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        sent = time.monotonic()
        with results.lock:
            results.issued[request_id] = (kind, sent)
        try:
            conn.request(kind, path, body=body, headers={"X-Request-Id": request_id})
            response = conn.getresponse()
            data = response.read()
            status = response.status
            close = response.getheader("Connection", "").lower() == "close"
        except (OSError, http.client.HTTPException) as error:
            results.add(unanswered=(request_id, repr(error)))
            if not is_post:
                results.add(failed_gets=(request_id, repr(error)))
            conn.close()
            conn = None
            continue
        results.add(latencies=time.monotonic() - sent)
        with results.lock:
            results.answered[kind] += 1
        if is_post:
            if status == 200 and data != body:
                results.add(corrupted=(request_id, "echo differs (%d of %d bytes)"
                                       % (len(data), len(body))))
            elif status != 200:
                results.add(posts_not_ok=(request_id, status))
        elif status != 200:
            results.add(failed_gets=(request_id, "status %d" % status))
        elif len(data) != size or hashlib.sha256(data).hexdigest() != pattern_sha(size):
            results.add(corrupted=(request_id, "GET body %d of %d bytes or wrong hash"
                                   % (len(data), size)))
            results.add(failed_gets=(request_id, "corrupted body"))
        if close:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()


class Chaos:
    """Applies and lifts faults, keeping at least two backends healthy at any time."""

    def __init__(self, backends, log):
        self.backends = backends  # slot -> harness.Backend (replaced on restart)
        self.retired = []  # killed Backend objects, kept for their request logs
        self.faults = {}  # slot -> (fault, since)
        self.history = []  # (slot, fault, applied at, lifted at)
        self.recoveries = []  # (slot, fault, lifted at)
        self.log = log
        self.next_fault = 0

    def step(self, now):
        lifted = False
        for slot, (fault, since) in list(self.faults.items()):
            self.lift(slot, fault)
            self.history.append((slot, fault, since, time.monotonic()))
            del self.faults[slot]
            lifted = True
        if lifted:
            return
        for _ in range(2):  # Up to two faults at once; two servers always stay healthy.
            healthy = [s for s in range(len(self.backends)) if s not in self.faults]
            if len(healthy) <= 2:
                break
            slot = random.choice(healthy)
            fault = FAULTS[self.next_fault % len(FAULTS)]
            self.next_fault += 1
            self.apply(slot, fault)
            self.faults[slot] = (fault, time.monotonic())

    def apply(self, slot, fault):
        backend = self.backends[slot]
        self.log("apply %s to backend %s (port %d)" % (fault, backend.id, backend.port))
        if fault == "kill":
            backend.process.kill()
            backend.process.wait(5)
        elif fault == "stop":
            backend.process.send_signal(signal.SIGSTOP)
        elif fault == "blackhole":
            iptables("-I", backend.port)
        elif fault == "slow":
            harness.get(backend.port, "/set-delay/%d" % SLOW_DELAY_MS)

    def lift(self, slot, fault):
        backend = self.backends[slot]
        if fault == "kill":
            backend.output.join()
            self.retired.append(backend)
            fresh = harness.Backend(backend.id, port=backend.port)
            self.backends[slot] = fresh
        elif fault == "stop":
            backend.process.send_signal(signal.SIGCONT)
        elif fault == "blackhole":
            iptables("-D", backend.port)
        elif fault == "slow":
            harness.get(backend.port, "/set-delay/0")
        self.log("lift %s from backend %s" % (fault, backend.id))
        if fault != "slow":
            self.recoveries.append((slot, fault, time.monotonic()))

    def lift_all(self):
        for slot, (fault, since) in list(self.faults.items()):
            self.lift(slot, fault)
            self.history.append((slot, fault, since, time.monotonic()))
        self.faults.clear()


def iptables(action, port):
    # Every packet to the port, SYNs included: new connects time out (not refused) and
    # established keep-alive connections hang, as behind a dead switch port.
    subprocess.run(["iptables", action, "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP"],
                   check=True)


def percentile(values, share):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def analyse(results, chaos, backends_ever):
    """Returns (summary lines, list of failures)."""
    executions = {}
    served_after = {}  # slot id -> list of (monotonic time the request was issued)
    for backend in backends_ever:
        for _, event in backend.events("request"):
            request_id = event.get("id") or ""
            if request_id.startswith("post-"):
                executions[request_id] = executions.get(request_id, 0) + 1
            if request_id in results.issued:
                served_after.setdefault(backend.id, []).append(results.issued[request_id][1])
    duplicated = sorted(i for i, n in executions.items() if n > 1)

    recovery_times = []
    interrupted = 0
    for slot, fault, lifted_at in chaos.recoveries:
        backend_id = chaos.backends[slot].id
        # The driver may fault the same backend again before its return got traffic; the wait
        # then ends at that fault, and counts only if it already exceeded the bound.
        next_fault = min((since for s, _, since, _ in chaos.history
                          if s == slot and since > lifted_at), default=float("inf"))
        later = [t for t in served_after.get(backend_id, []) if lifted_at <= t < next_fault]
        if later:
            recovery_times.append((backend_id, fault, min(later) - lifted_at))
        elif next_fault - lifted_at <= RECOVERY_BOUND_S:
            interrupted += 1
        else:
            recovery_times.append((backend_id, fault, None))

    failures = []
    if results.failed_gets:
        failures.append("%d failed GETs, e.g. %s" % (len(results.failed_gets),
                                                      results.failed_gets[:5]))
    if duplicated:
        failures.append("%d POSTs executed twice, e.g. %s" % (len(duplicated), duplicated[:5]))
    if results.unanswered:
        failures.append("%d requests unanswered, e.g. %s" % (len(results.unanswered),
                                                              results.unanswered[:5]))
    if results.corrupted:
        failures.append("%d corrupted bodies, e.g. %s" % (len(results.corrupted),
                                                           results.corrupted[:5]))
    for backend_id, fault, took in recovery_times:
        if took is None or took > RECOVERY_BOUND_S:
            failures.append("backend %s after %s: traffic again after %s (bound %.1f s)"
                            % (backend_id, fault, "never" if took is None else "%.2f s" % took,
                               RECOVERY_BOUND_S))

    faults_applied = {}
    for _, fault, _, _ in chaos.history:
        faults_applied[fault] = faults_applied.get(fault, 0) + 1
    worst = max((t for _, _, t in recovery_times if t is not None), default=0.0)
    lines = [
        "| measure | value |",
        "|---|---|",
        "| requests sent | %d |" % len(results.issued),
        "| GETs answered / failed | %d / %d |" % (results.answered["GET"],
                                                   len(results.failed_gets)),
        "| POSTs answered 200 / other status | %d / %d |" % (
            results.answered["POST"] - len(results.posts_not_ok), len(results.posts_not_ok)),
        "| POSTs executed twice | %d |" % len(duplicated),
        "| unanswered requests | %d |" % len(results.unanswered),
        "| corrupted or truncated bodies | %d |" % len(results.corrupted),
        "| faults applied | %s |" % ", ".join("%s %d" % (f, faults_applied.get(f, 0))
                                              for f in FAULTS),
        "| slowest return to traffic | %.2f s (bound %.1f s, %d returns, %d cut short by a "
        "new fault) |" % (worst, RECOVERY_BOUND_S, len(recovery_times), interrupted),
        "| latency p50 / p99 / max | %.1f / %.1f / %.1f ms |" % (
            1000 * percentile(results.latencies, 0.5), 1000 * percentile(results.latencies, 0.99),
            1000 * max(results.latencies, default=0)),
    ]
    return lines, failures


def run(duration, clients, step, summary_path):
    started = time.monotonic()

    def log(message):
        print("[%6.2f] %s" % (time.monotonic() - started, message), flush=True)

    backends = [harness.Backend("b%d" % i) for i in range(BACKENDS)]
    proxy = harness.Proxy(proxy_config(backends))
    chaos = Chaos(backends, log)
    results = Results()
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, args=(proxy.port("web"), i, stop, results))
               for i in range(clients)]
    try:
        for thread in threads:
            thread.start()
        deadline = started + duration
        next_step = time.monotonic() + step
        while time.monotonic() < deadline:
            time.sleep(max(0.0, min(next_step, deadline) - time.monotonic()))
            if time.monotonic() >= deadline:
                break
            chaos.step(time.monotonic())
            next_step += step
        chaos.lift_all()
        # Let the last returns get traffic before the load stops.
        time.sleep(RECOVERY_BOUND_S + 0.5)
        stop.set()
        for thread in threads:
            thread.join(30)
        for backend in chaos.backends:
            backend.sync()
        lines, failures = analyse(results, chaos, chaos.retired + chaos.backends)
    finally:
        stop.set()
        proxy.cleanup()
        for backend in chaos.retired + chaos.backends:
            if backend.process.poll() is None:
                backend.process.send_signal(signal.SIGCONT)
            backend.stop()
    header = "Chaos run: %d s, %d clients, fault step %.1f s, %d backends" % (
        duration, clients, step, BACKENDS)
    text = "\n".join([header, ""] + lines + [""] + (
        ["FAILED:"] + ["- " + f for f in failures] if failures else ["PASSED"])) + "\n"
    print(text, flush=True)
    if summary_path:
        with open(summary_path, "w") as f:
            f.write(text)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--step", type=float, default=2.5, help="seconds between fault changes")
    parser.add_argument("--summary", help="also write the summary table to this file")
    args = parser.parse_args()
    if os.environ.get(IN_NAMESPACE_ENV) != "1":
        # Re-run inside a network namespace of our own (see the module comment).
        command = ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__)]
        command += sys.argv[1:]
        env = dict(os.environ, **{IN_NAMESPACE_ENV: "1"})
        try:
            return subprocess.run(command, env=env).returncode
        except FileNotFoundError:
            print("chaos: `unshare` (util-linux) is needed", file=sys.stderr)
            return 2
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    return run(args.duration, args.clients, args.step, args.summary)


if __name__ == "__main__":
    sys.exit(main())
