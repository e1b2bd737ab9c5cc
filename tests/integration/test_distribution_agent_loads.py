"""Agent loads steering a weighted policy through the real binary, end to end: three servers of
equal weight (1, 1, 1), each with its own fulcrum-agent on its own port (the server's
`agent_port`), queried every 200 ms. One agent reports load 0, one load 100, and one answers
nothing (its command prints no line, so it closes the connection unanswered): without
`require_response` that server stays in play with its load unknown, which counts as 50.
Effective weights are weight x (101 - load) / 101, so weighted_round_robin must share 101 : 1 :
51, while round_robin, over the same servers and agents, ignores loads and gives a third each.
Traffic: one request at a time on one keep-alive connection, counted by the X-Backend each
answer carries. Prints the measured shares."""

import os
import re
import signal
import tempfile
import unittest

from harness import (DistributionTestCase, cluster, config, http_listener,
                     served_on_one_connection)
from test_fulcrum_agent import Agent

SERVERS = ["light", "heavy", "silent"]
# port 0: only the servers' own agent_port are queried. 200 ms so the loads arrive quickly.
AGENTS = {"port": 0, "interval": "200ms", "timeout": "500ms"}
LOAD_CYCLE = 101 + 1 + 51  # Effective weights of load 0, load 100 and an unknown load (50).
# Three whole cycles of the smooth weighted rotation: each server gets exactly its share.
SEQUENTIAL = 3 * LOAD_CYCLE
BY_LOAD = {"light": 101 / LOAD_CYCLE, "heavy": 1 / LOAD_CYCLE, "silent": 51 / LOAD_CYCLE}
# Both rotations are exact over whole cycles, so 0.02 (9 of 459 requests) only absorbs an agent
# query lost on a loaded machine; the nearest wrong readings are far outside it: an unknown load
# taken as 0 gives the silent server 0.497, taken as 100 gives it 0.010, loads ignored 0.333 for
# the light server.
ROTATION_TOLERANCE = 0.02

class AgentLoadsDistributionTest(DistributionTestCase):
    def start_agent(self, *args):
        agent = Agent(*args)
        self.addCleanup(agent.stop, signal.SIGKILL)
        self._outputs.append(lambda: "--- fulcrum-agent stderr ---\n" + agent.stderr.text())
        return agent

    def pinned_load_agent(self, load):
        """A fulcrum-agent answering `load` from its state file, as operators pin a load."""
        state_dir = tempfile.TemporaryDirectory(prefix="fulcrum-agent-state-")
        self.addCleanup(state_dir.cleanup)
        path = os.path.join(state_dir.name, "state")
        with open(path, "w") as f:
            f.write("%d\n" % load)
        return self.start_agent("--file", path)

    def setUp(self):
        super().setUp()
        self.backends = [self.start_backend(name) for name in SERVERS]
        agents = [self.pinned_load_agent(0), self.pinned_load_agent(100),
                  self.start_agent("--command", "true")]  # Prints nothing: answers nothing.
        clusters = [cluster(name, self.backends, policy, [1, 1, 1], agent=AGENTS)
                    for name, policy in (("wrr", "weighted_round_robin"), ("rr", "round_robin"))]
        for c in clusters:
            for server, agent in zip(c["servers"], agents):
                server["agent_port"] = agent.port
        self.proxy = self.start_proxy(config(
            [http_listener(c["name"], c["name"]) for c in clusters], clusters, workers=1))
        for name in ("wrr", "rr"):
            self.wait_agent_state(name)

    def wait_agent_state(self, cluster_name):
        """Until the proxy has logged every agent's answer (or silence) in that cluster."""
        light, heavy, silent = (re.escape(b.address) for b in self.backends)
        patterns = [re.compile(p % cluster_name) for p in (
            r"cluster %%s: agent of server %s: load 0," % light,
            r"cluster %%s: agent of server %s: load 100," % heavy,
            r"cluster %%s: agent of server %s does not answer: closed without answering "
            r"\(balanced without it\)" % silent)]
        self.proxy.stdout.wait_for(
            lambda lines: all(any(p.search(text) for _, text in lines) for p in patterns), 10,
            "the agents' loads in cluster %s" % cluster_name)

    def shares(self, policy, listener, expected):
        names = served_on_one_connection(self.proxy.port(listener), SEQUENTIAL)
        shares = self.measure(policy, "loads 0, 100, silent", "sequential, 1 conn", names,
                              SERVERS)
        self.assert_shares_near(shares, expected, ROTATION_TOLERANCE,
                                "%s with agent loads" % policy)
        return names

    def test_weighted_round_robin_follows_the_agents_loads(self):
        names = self.shares("weighted_round_robin", "wrr", BY_LOAD)
        # A saturated server keeps 1/101 of its weight: never starved of requests.
        self.assertGreater(names.count("heavy"), 0)

    def test_round_robin_ignores_the_agents_loads(self):
        self.shares("round_robin", "rr", dict.fromkeys(SERVERS, 1 / 3))

    def tearDown(self):
        self.stop_proxy(self.proxy)


if __name__ == "__main__":
    unittest.main()
