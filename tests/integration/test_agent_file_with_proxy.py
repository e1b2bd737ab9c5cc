"""`fulcrum-agent --file` in front of a real proxy, as an operator uses it: writing `50%`, `drain`,
`down` and `up ready` into the agent's state file changes which server the proxy sends requests
to, at the proxy's next agent query. Both binaries are the built ones (fulcrum-agent is found
beside $FULCRUM_BIN)."""

import os
import re
import signal
import tempfile
import threading
import unittest
from collections import Counter

from harness import ProxyTestCase, cluster, config, get, http_listener
from test_fulcrum_agent import Agent

# port 0: only the server given an agent_port has an agent.
FAST_AGENT = {"port": 0, "interval": "100ms", "timeout": "500ms"}


def shares(port, count, path="/who"):
    """Counter of X-Backend over `count` requests through the proxy."""
    seen = Counter()
    for _ in range(count):
        r = get(port, path)
        if r.status != 200:
            raise AssertionError("status %d: %r" % (r.status, r))
        seen[r.header("X-Backend")] += 1
    return seen


class AgentFileWithProxyTest(ProxyTestCase):
    def setUp(self):
        super().setUp()
        state_dir = tempfile.TemporaryDirectory(prefix="fulcrum-agent-state-")
        self.addCleanup(state_dir.cleanup)
        self.state = os.path.join(state_dir.name, "state")

    def write_state(self, text):
        # Replaced atomically, as deploy tools (and editors) do.
        with open(self.state + ".tmp", "w") as f:
            f.write(text)
        os.replace(self.state + ".tmp", self.state)

    def start_agent(self):
        agent = Agent("--file", self.state)
        self.addCleanup(agent.stop, signal.SIGKILL)
        self._outputs.append(lambda: "--- fulcrum-agent stderr ---\n" + agent.stderr.text())
        return agent

    def agent_said(self, proxy, backend, state, after=0):
        """Waits for the proxy to log, after line `after`, that `backend`'s agent state now
        starts with `state`; returns the number of lines seen then."""
        regex = re.compile(r"agent of server %s: %s" % (re.escape(backend.address),
                                                         re.escape(state)))
        return proxy.stdout.wait_for(
            lambda lines: next((i + 1 for i, (_, line) in enumerate(lines)
                                if i >= after and regex.search(line)), None),
            10, "agent state %r" % state)

    def test_writing_the_state_file_steers_the_proxy(self):
        a, b = self.start_backend("a"), self.start_backend("b")
        agent = self.start_agent()
        app = cluster("app", [a, b], panic_threshold=0, agent=FAST_AGENT)
        app["servers"][0]["agent_port"] = agent.port
        self.write_state("up ready\n")
        proxy = self.start_proxy(config([http_listener("web", "app")], [app]))
        port = proxy.port("web")
        seen = self.agent_said(proxy, a, "load unknown, up, ready, weight 100%")
        self.assertEqual(shares(port, 20), Counter({"a": 10, "b": 10}))

        # Half the weight: admitted half of its turns, so about a quarter of the requests.
        self.write_state("50%\n")
        seen = self.agent_said(proxy, a, "load unknown, up, ready, weight 50%", seen)
        half = shares(port, 400)
        self.assertGreater(half["a"], 400 * 0.12, half)
        self.assertLess(half["a"], 400 * 0.42, half)

        # Drain: no new requests, while one in flight on a completes.
        self.write_state("up ready 100%\n")
        seen = self.agent_said(proxy, a, "load unknown, up, ready, weight 100%", seen)
        # Four slow requests: round robin gives a at least one of them (each worker alternates).
        slow = [None] * 4

        def send(i):
            slow[i] = get(port, "/slow/1500", timeout=15)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
            self.addCleanup(thread.join, 20)
        a.output.wait_for(lambda _: any(e["path"] == "/slow/1500" for e in a.requests()), 5,
                          "a slow request in flight on a")
        self.write_state("drain # deploying\n")
        seen = self.agent_said(proxy, a, "load unknown, up, drain", seen)
        self.assertTrue(any(t.is_alive() for t in threads), "still in flight at the drain")
        self.assertEqual(shares(port, 20), Counter({"b": 20}))
        for thread in threads:
            thread.join(15)
        self.assertEqual([r.status for r in slow], [200] * 4)
        self.assertIn("a", [r.header("X-Backend") for r in slow], "in flight on a, completed")

        self.write_state("ready\n")
        seen = self.agent_said(proxy, a, "load unknown, up, ready", seen)
        self.assertEqual(shares(port, 20), Counter({"a": 10, "b": 10}))

        # Down: out, until the file says up again.
        self.write_state("down # disk full\n")
        seen = self.agent_said(proxy, a, "load unknown, down, ready", seen)
        a.sync()
        before = len(a.requests())
        self.assertEqual(shares(port, 20), Counter({"b": 20}))
        a.sync()
        self.assertEqual([e["path"] for e in a.requests()[before:] if e["path"] != "/sync"], [],
                         "no request reaches a server its agent says is down")

        self.write_state("up\n")
        self.agent_said(proxy, a, "load unknown, up, ready", seen)
        self.assertEqual(shares(port, 20), Counter({"a": 10, "b": 10}))
        agent.wait_stderr("file %s: answering 'up'" % self.state)
        self.stop_proxy(proxy)


if __name__ == "__main__":
    unittest.main()
