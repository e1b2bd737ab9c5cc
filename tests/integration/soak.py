#!/usr/bin/env python3
"""Soak: fulcrum under steady keep-alive load for a long time (10 minutes by default) while a
driver, every cycle, reloads the configuration (SIGHUP and POST /api/v1/reload, alternating a
changed weight), adds a server through the admin API, drains it, removes it, and drains and
re-enables a configured one.

  FULCRUM_BIN=build/release/bin/fulcrum tests/integration/soak.py --duration 600 --summary F

Fails on any failed request, any admin call that did not do what it should, resident memory
growing more than 10 % over its value after warm-up (the first fifth of the run), or open file
descriptors growing over the run (sampled at the same point of every cycle).
"""

import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from admin_api import AdminClient, Load, admin_port  # noqa: E402

CYCLE_S = 10
RSS_GROWTH_LIMIT = 0.10
FD_SLACK = 8  # Pooled upstream connections may differ by a few between samples.


def proxy_config(backends, weight):
    servers = [{"address": b.address, "weight": weight if i == 0 else 1}
               for i, b in enumerate(backends)]
    return harness.config(
        [harness.http_listener("web", "soak")],
        [{"name": "soak", "policy": "round_robin", "servers": servers,
          "health_check": {"type": "http", "path": "/health", "interval": "1s"}}],
        admin={"listen": "127.0.0.1:0", "state_file": ""},
        access_log={"enabled": False}, drain_timeout="5s")


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def check(problems, reply, expected, what):
    if reply.status not in expected:
        problems.append("%s: %r" % (what, reply))


def one_cycle(cycle, proxy, api, backends, extra, problems):
    """Reload, add + drain + remove a server, drain + enable a configured one."""
    weight = 1 + cycle % 3
    doc = proxy_config(backends, weight)
    with open(proxy.config_path, "w") as f:
        f.write(harness.to_yaml(doc) + "\n")
    if cycle % 2 == 0:
        proxy.process.send_signal(signal.SIGHUP)
    else:
        check(problems, api.call("POST", "/api/v1/reload"), (200,), "reload")
    path = "/api/v1/clusters/soak/servers"
    # The reload runs on the admin thread, so the calls below come after it.
    harness.wait_until(lambda: (api.server("soak", backends[0].address) or {}).get(
        "weight", {}).get("configured") == weight, 10, message="reloaded weight %d" % weight)
    check(problems, api.call("POST", path, {"address": extra.address}), (201,), "add")
    check(problems, api.call("PATCH", "%s/%s" % (path, extra.address), {"state": "drain"}),
          (200,), "drain added")
    check(problems, api.call("DELETE", "%s/%s?wait=true" % (path, extra.address)), (200,),
          "remove added")
    check(problems, api.call("PATCH", "%s/%s" % (path, backends[1].address),
                             {"state": "drain"}), (200,), "drain configured")
    check(problems, api.call("PATCH", "%s/%s" % (path, backends[1].address),
                             {"state": "enable"}), (200,), "enable configured")


def run(duration, summary_path):
    backends = [harness.Backend("s%d" % i) for i in range(3)]
    extra = harness.Backend("extra")
    try:
        proxy = harness.Proxy(proxy_config(backends, 1))
    except BaseException:
        for backend in backends + [extra]:
            backend.stop()
        raise
    api = AdminClient(admin_port(proxy))
    load = Load(proxy.port("web"), threads=4).start()
    pid = proxy.process.pid
    samples = []  # (seconds, rss KiB, fds, requests so far)
    problems = []
    started = time.monotonic()
    cycle = 0
    try:
        while time.monotonic() - started < duration:
            cycle_start = time.monotonic()
            one_cycle(cycle, proxy, api, backends, extra, problems)
            load.wait_for_more(100)
            samples.append((time.monotonic() - started, vm_rss_kib(pid), open_fds(pid),
                            load.count()))
            cycle += 1
            time.sleep(max(0.0, CYCLE_S - (time.monotonic() - cycle_start)))
    finally:
        ok, failures = load.stop()
        proxy.cleanup()
        for backend in backends + [extra]:
            backend.stop()

    warm = [s for s in samples if s[0] >= duration / 5] or samples
    baseline_rss = warm[0][1]
    peak_rss = max(s[1] for s in warm)
    baseline_fds = warm[0][2]
    last_fds = samples[-1][2]
    if failures:
        problems.append("%d failed requests, e.g. %s" % (len(failures), failures[:5]))
    if peak_rss > baseline_rss * (1 + RSS_GROWTH_LIMIT):
        problems.append("RSS grew from %d KiB to %d KiB" % (baseline_rss, peak_rss))
    if last_fds > baseline_fds + FD_SLACK:
        problems.append("open fds grew from %d to %d" % (baseline_fds, last_fds))
    lines = [
        "Soak run: %d s, %d cycles (reload + add/drain/remove + drain/enable each)" % (
            duration, cycle),
        "",
        "| measure | value |",
        "|---|---|",
        "| requests answered / failed | %d / %d |" % (ok, len(failures)),
        "| RSS after warm-up / peak / last | %d / %d / %d KiB |" % (
            baseline_rss, peak_rss, samples[-1][1]),
        "| open fds after warm-up / last | %d / %d |" % (baseline_fds, last_fds),
        "",
        "| t (s) | RSS (KiB) | fds | requests |",
        "|---|---|---|---|",
    ] + ["| %.0f | %d | %d | %d |" % s for s in samples[::max(1, len(samples) // 12)]]
    text = "\n".join(lines + [""] + (["FAILED:"] + ["- " + p for p in problems]
                                      if problems else ["PASSED"])) + "\n"
    print(text, flush=True)
    if summary_path:
        with open(summary_path, "w") as f:
            f.write(text)
    return 1 if problems else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--summary")
    args = parser.parse_args()
    return run(args.duration, args.summary)


if __name__ == "__main__":
    sys.exit(main())
