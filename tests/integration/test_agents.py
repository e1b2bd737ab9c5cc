"""Server agents through the real binary, with scripted agents in this process: Equalizer loads
(-1 takes a server out, 100 vs 0 under the `agent` policy, ignored by round robin), a required
response from a dead agent, HAProxy `drain` with a request in flight, and `weight:25%`.

Each server's agent listens on its own port (the server's `agent_port`), at the server's host."""

import re
import socket
import threading
import time
import unittest
from collections import Counter

from harness import ProxyTestCase, cluster, config, get, http_listener, wait_until

# port 0: only servers with their own agent_port have an agent (without it, every server's agent
# would be queried on the standard port, 1510).
FAST_AGENT = {"port": 0, "interval": "100ms", "timeout": "500ms"}


class Agent:
    """A scripted agent: answers every connection with the current answer, then closes. With
    `read_probe`, it first reads the probe line fulcrum sends and keeps the last one."""

    def __init__(self, answer, read_probe=False, tls_context=None):
        self.answer = answer
        self.tls_context = tls_context  # A server-side ssl.SSLContext: answer over TLS.
        self.read_probe = read_probe
        self.probes = []
        self.queries = 0
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def set(self, answer):
        with self.lock:
            self.answer = answer

    def count(self):
        with self.lock:
            return self.queries

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    if self.tls_context is not None:
                        conn = self.tls_context.wrap_socket(conn, server_side=True)
                    if self.read_probe:
                        probe = conn.recv(256)
                        with self.lock:
                            self.probes.append(probe)
                    with self.lock:
                        self.queries += 1
                        answer = self.answer
                    conn.sendall(answer.encode())
                    conn.shutdown(socket.SHUT_WR)
                    conn.recv(16)  # Until fulcrum closes: never reset an unread answer.
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def server(backend, agent_port):
    return {"address": backend.address, "agent_port": agent_port}


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def shares(port, count, path="/who"):
    """Counter of X-Backend over `count` requests through the proxy."""
    seen = Counter()
    for _ in range(count):
        r = get(port, path)
        if r.status != 200:
            raise AssertionError("status %d: %r" % (r.status, r))
        seen[r.header("X-Backend")] += 1
    return seen


class AgentTest(ProxyTestCase):
    def start_agent(self, answer, **kwargs):
        agent = Agent(answer, **kwargs)
        self.addCleanup(agent.close)
        return agent

    def wait_log(self, proxy, pattern, timeout=10):
        regex = re.compile(pattern)
        return proxy.stdout.wait_for(
            lambda lines: next((t for t, line in lines if regex.search(line)), None), timeout,
            "log line /%s/" % pattern)

    def agent_said(self, proxy, backend, state):
        """Waits for the proxy to log that `backend`'s agent state now starts with `state`."""
        return self.wait_log(proxy, r"agent of server %s: %s" % (re.escape(backend.address),
                                                                 re.escape(state)))

    def test_minus_one_gets_no_new_requests_until_the_agent_says_otherwise(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        agent_a = self.start_agent("-1\n", read_probe=True)
        agent_b = self.start_agent("0\n")
        app = cluster("app", [], agent=dict(FAST_AGENT, send="load\n"))
        app["servers"] = [server(a, agent_a.port), server(b, agent_b.port)]
        proxy = self.start_proxy(config([http_listener("web", "app")], [app]))
        self.agent_said(proxy, a, "load -1")
        self.agent_said(proxy, b, "load 0")
        self.assertEqual(shares(proxy.port("web"), 20), Counter({"b": 20}))
        with agent_a.lock:
            self.assertEqual(agent_a.probes[-1], b"load\n", "the configured probe string")

        agent_a.set("50\n")
        self.agent_said(proxy, a, "load 50")
        wait_until(lambda: shares(proxy.port("web"), 4)["a"] > 0, 5, message="a back")
        self.stop_proxy(proxy)

    def test_agent_policy_favours_the_light_server_round_robin_ignores_loads(self):
        light, heavy = self.start_backend("light"), self.start_backend("heavy")
        agent_light, agent_heavy = self.start_agent("0\n"), self.start_agent("100\n")
        servers = [server(light, agent_light.port), server(heavy, agent_heavy.port)]
        by_agent = cluster("by_agent", [], policy="agent", agent=FAST_AGENT)
        by_turn = cluster("by_turn", [], policy="round_robin", agent=FAST_AGENT)
        by_agent["servers"] = by_turn["servers"] = servers
        proxy = self.start_proxy(config(
            [http_listener("agent", "by_agent"), http_listener("rr", "by_turn")],
            [by_agent, by_turn]))
        for name in ("by_agent", "by_turn"):
            self.wait_log(proxy, r"cluster %s: agent of server %s: load 100" %
                          (name, re.escape(heavy.address)))
            self.wait_log(proxy, r"cluster %s: agent of server %s: load 0" %
                          (name, re.escape(light.address)))
        agent_shares = shares(proxy.port("agent"), 200)
        rr_shares = shares(proxy.port("rr"), 200)
        # agent: weight x (101 - load) -> 101 : 1, so ~99% light.
        self.assertGreater(agent_shares["light"], 170, agent_shares)
        self.assertEqual(rr_shares, Counter({"light": 100, "heavy": 100}))
        self.stop_proxy(proxy)

    def test_dead_agent_takes_server_out_only_when_a_response_is_required(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        agent_b = self.start_agent("0\n")
        dead = dead_port()
        strict = cluster("strict", [], panic_threshold=0,
                         agent=dict(FAST_AGENT, require_response=True))
        lenient = cluster("lenient", [], panic_threshold=0,
                          agent=dict(FAST_AGENT, require_response=False))
        strict["servers"] = lenient["servers"] = [server(a, dead), server(b, agent_b.port)]
        proxy = self.start_proxy(config(
            [http_listener("strict", "strict"), http_listener("lenient", "lenient")],
            [strict, lenient]))
        for name, consequence in (("strict", "required: server out"),
                                  ("lenient", "balanced without it")):
            self.wait_log(proxy, r"cluster %s: agent of server %s does not answer: connection "
                                 r"refused \(%s\)" % (name, re.escape(a.address), consequence))
            self.wait_log(proxy, r"cluster %s: agent of server %s: load 0" %
                          (name, re.escape(b.address)))
        self.assertEqual(shares(proxy.port("strict"), 20), Counter({"b": 20}))
        self.assertEqual(shares(proxy.port("lenient"), 20), Counter({"a": 10, "b": 10}))
        self.stop_proxy(proxy)

    def test_drain_stops_new_requests_while_in_flight_ones_complete(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        agent_a = self.start_agent("up ready\n")
        agent_b = self.start_agent("up ready\n")
        app = cluster("app", [], policy="first_available", agent=FAST_AGENT)
        app["servers"] = [server(a, agent_a.port), server(b, agent_b.port)]
        proxy = self.start_proxy(config([http_listener("web", "app")], [app]))
        self.agent_said(proxy, a, "load unknown, up, ready")
        slow = {}
        thread = threading.Thread(
            target=lambda: slow.update(r=get(proxy.port("web"), "/slow/2500", timeout=15)))
        thread.start()
        self.addCleanup(thread.join, 20)
        a.output.wait_for(lambda _: any(e["path"] == "/slow/2500" for e in a.requests()), 5,
                          "the slow request in flight on a")

        agent_a.set("drain # deploying\n")
        self.agent_said(proxy, a, "load unknown, up, drain")
        self.assertTrue(thread.is_alive(), "still in flight when the drain took effect")
        self.assertEqual(shares(proxy.port("web"), 10), Counter({"b": 10}))
        thread.join(15)
        self.assertEqual(slow["r"].status, 200)
        self.assertEqual(slow["r"].header("X-Backend"), "a")
        self.stop_proxy(proxy)

    def test_weight_percent_reduces_a_servers_share(self):
        backends = [self.start_backend(name) for name in ("a", "b", "c")]
        agent_c = self.start_agent("weight:25%\n")
        app = cluster("app", backends, agent=FAST_AGENT)
        app["servers"][2]["agent_port"] = agent_c.port
        proxy = self.start_proxy(config([http_listener("web", "app")], [app]))
        self.agent_said(proxy, backends[2], "load unknown, health unknown, ready, weight 25%")
        seen = shares(proxy.port("web"), 450)
        # Admitted a quarter of the time it is chosen: 0.25 / (1 + 1 + 0.25) ~ 11%.
        self.assertGreater(seen["c"], 450 * 0.04, seen)
        self.assertLess(seen["c"], 450 * 0.20, seen)
        self.assertGreater(min(seen["a"], seen["b"]), 450 * 0.33, seen)
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
