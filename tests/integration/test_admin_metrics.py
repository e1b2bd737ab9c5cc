"""GET /metrics on the real binary, read by a small parser of the Prometheus text format (0.0.4)
that enforces its rules: HELP/TYPE before samples, families contiguous, valid names and labels,
no duplicate series, counters named *_total, histogram buckets cumulative and ending in +Inf
equal to _count. The values are then checked against the traffic sent."""

import math
import re
import socket
import unittest

from admin_api import AdminClient, admin_port
from harness import ProxyTestCase, cluster, config, get, http_listener

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|\Z)')
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class Families(dict):
    """family name -> {"type", "help", "samples": [(name, labels dict, value)]}"""


def parse_value(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    return float(text)


def parse_labels(text):
    labels = {}
    position = 0
    while position < len(text):
        match = LABEL.match(text, position)
        if not match:
            raise AssertionError("malformed labels at %r" % text[position:])
        name, value = match.group(1), match.group(2)
        if name in labels:
            raise AssertionError("label %s repeated in %r" % (name, text))
        labels[name] = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1),
                              value)
        position = match.end()
    return labels


def family_of(name, families):
    if name in families:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") == "histogram":
            return base
    raise AssertionError("sample %s has no TYPE line before it" % name)


def parse_prometheus(text):
    families = Families()
    seen_series = set()
    finished = set()
    current = None
    assert text.endswith("\n"), "the exposition ends with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, kind, name, rest = (line.split(" ", 3) + [""])[:4]
            assert NAME.match(name), "bad metric name %r" % name
            if name != current:
                assert name not in finished and name not in families or \
                    kind == "TYPE" and "type" not in families[name], \
                    "family %s is not contiguous" % name
                if current is not None:
                    finished.add(current)
                current = name
            entry = families.setdefault(name, {"samples": []})
            if kind == "TYPE":
                assert rest in ("counter", "gauge", "histogram", "summary", "untyped"), line
                entry["type"] = rest
            else:
                entry["help"] = rest
            continue
        if not line or line.startswith("#"):
            continue
        match = re.match(r"([^{ ]+)(?:\{(.*)\})? (\S+)\Z", line)
        assert match, "malformed sample line %r" % line
        name, label_text, value = match.group(1), match.group(2) or "", match.group(3)
        assert NAME.match(name), "bad metric name %r" % name
        family = family_of(name, families)
        assert family == current, "sample %s outside its family block" % name
        labels = parse_labels(label_text)
        series = (name, tuple(sorted(labels.items())))
        assert series not in seen_series, "duplicate series %r" % (series,)
        seen_series.add(series)
        families[family]["samples"].append((name, labels, parse_value(value)))
    return families


def check_conventions(test, families):
    for name, family in families.items():
        test.assertTrue(name.startswith("fulcrum_"), name)
        test.assertIn("type", family, name)
        test.assertTrue(family.get("help"), "HELP for %s" % name)
        if family["type"] == "counter":
            test.assertTrue(name.endswith("_total"), name)
            for _, _, value in family["samples"]:
                test.assertGreaterEqual(value, 0, name)
        if family["type"] == "histogram":
            check_histogram(test, name, family["samples"])


def check_histogram(test, name, samples):
    series = {}
    for sample_name, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        entry = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if sample_name.endswith("_bucket"):
            entry["buckets"].append((parse_value(labels["le"]), value))
        elif sample_name.endswith("_sum"):
            entry["sum"] = value
        else:
            entry["count"] = value
    test.assertTrue(series, name)
    for key, entry in series.items():
        bounds = [le for le, _ in entry["buckets"]]
        test.assertEqual(bounds, sorted(bounds), "%s%s buckets in order" % (name, key))
        test.assertEqual(bounds[-1], math.inf, "%s%s ends in +Inf" % (name, key))
        counts = [count for _, count in entry["buckets"]]
        test.assertEqual(counts, sorted(counts), "%s%s buckets cumulative" % (name, key))
        test.assertEqual(counts[-1], entry["count"], "%s%s +Inf == _count" % (name, key))
        test.assertIsNotNone(entry["sum"])


def values(families, name, **match):
    """Sum of the samples of `name` whose labels include `match`."""
    family = family_of(name, families)
    return sum(value for sample, labels, value in families[family]["samples"]
               if sample == name and all(labels.get(k) == v for k, v in match.items()))


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics(ProxyTestCase):
    def start(self):
        self.b1 = self.start_backend("b1")
        self.b2 = self.start_backend("b2")
        self.dead = "127.0.0.1:%d" % closed_port()
        listener = {"name": "web", "listen": "127.0.0.1:0", "mode": "http",
                    "routes": [{"match": {"path_prefix": "/flaky"}, "cluster": "flaky"},
                               {"cluster": "web"}]}
        proxy = self.start_proxy(config(
            [listener],
            [cluster("web", [self.b1, self.b2]),
             cluster("flaky", [self.dead, self.b1], panic_threshold=0)],
            admin={"listen": "127.0.0.1:0"}))
        return proxy, AdminClient(admin_port(proxy))

    def scrape(self, api):
        reply = api.get("/metrics")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        families = parse_prometheus(reply.body)
        check_conventions(self, families)
        return families

    def test_scrape_parses_and_counts_the_traffic(self):
        proxy, api = self.start()
        port = proxy.port("web")
        for i in range(30):
            self.assertEqual(get(port, "/status/503" if i % 3 == 0 else "/").status,
                             503 if i % 3 == 0 else 200)
        families = self.scrape(api)
        self.assertEqual(values(families, "fulcrum_server_requests_total", cluster="web"), 30)
        self.assertEqual(values(families, "fulcrum_server_requests_total", cluster="web",
                                server=self.b1.address), 15)
        self.assertEqual(values(families, "fulcrum_listener_accepted_connections_total",
                                listener="web"), 30)
        self.assertEqual(values(families, "fulcrum_listener_rejected_connections_total"), 0)
        self.assertEqual(values(families, "fulcrum_cluster_servers", cluster="web"), 2)
        self.assertEqual(values(families, "fulcrum_server_eligible", cluster="web"), 2)
        self.assertEqual(values(families, "fulcrum_server_admin_state", cluster="web",
                                state="enabled"), 2)
        self.assertEqual(values(families, "fulcrum_server_active_connections"), 0)
        self.assertEqual(values(families, "fulcrum_server_in_flight_requests"), 0)
        self.assertGreater(values(families, "fulcrum_process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(values(families, "fulcrum_process_open_fds"), 3)
        self.assertGreater(values(families, "fulcrum_process_uptime_seconds"), 0)

        # Requests to the flaky cluster: refused by the dead server, retried on b1.
        for _ in range(6):
            self.assertEqual(get(port, "/flaky").status, 200)
        families = self.scrape(api)
        failures = values(families, "fulcrum_server_connect_failures_total", cluster="flaky",
                          server=self.dead)
        self.assertGreaterEqual(failures, 1)
        self.assertEqual(values(families, "fulcrum_server_requests_total", cluster="flaky",
                                server=self.dead), failures)
        self.stop_proxy(proxy)

    def test_responses_by_class_retries_and_latency_histogram(self):
        """Needs record_response / record_retry wired on the request path (core/server_stats.h)."""
        proxy, api = self.start()
        port = proxy.port("web")
        for i in range(30):
            get(port, "/status/503" if i % 3 == 0 else "/")
        for _ in range(6):
            self.assertEqual(get(port, "/flaky").status, 200)
        families = self.scrape(api)
        self.assertEqual(values(families, "fulcrum_server_responses_total", cluster="web",
                                **{"class": "2xx"}), 20)
        self.assertEqual(values(families, "fulcrum_server_responses_total", cluster="web",
                                **{"class": "5xx"}), 10)
        self.assertEqual(values(families, "fulcrum_server_response_latency_seconds_count",
                                cluster="web"), 30)
        self.assertGreater(values(families, "fulcrum_server_response_latency_seconds_sum",
                                  cluster="web"), 0)
        # Every connect failure in the flaky cluster was followed by a retry on b1.
        failures = values(families, "fulcrum_server_connect_failures_total", cluster="flaky")
        self.assertGreaterEqual(failures, 1)
        self.assertEqual(values(families, "fulcrum_server_retries_total", cluster="flaky"),
                         failures)
        self.stop_proxy(proxy)


class ParserRejects(unittest.TestCase):
    """The parser itself must catch what it claims to."""

    def test_malformed_expositions(self):
        bad = {
            "no TYPE": "fulcrum_x 1\n",
            "not contiguous": "# TYPE fulcrum_a gauge\nfulcrum_a 1\n# TYPE fulcrum_b gauge\n"
                              "fulcrum_b 1\nfulcrum_a 2\n",
            "duplicate": "# TYPE fulcrum_a gauge\nfulcrum_a{x=\"1\"} 1\nfulcrum_a{x=\"1\"} 2\n",
            "bad label": "# TYPE fulcrum_a gauge\nfulcrum_a{x=1} 1\n",
            "bad escape": "# TYPE fulcrum_a gauge\nfulcrum_a{x=\"\\q\"} 1\n",
        }
        for what, text in bad.items():
            with self.assertRaises(AssertionError, msg=what):
                parse_prometheus(text)
        histogram = parse_prometheus(
            "# HELP fulcrum_h_seconds h\n# TYPE fulcrum_h_seconds histogram\n"
            "fulcrum_h_seconds_bucket{le=\"0.1\"} 3\nfulcrum_h_seconds_bucket{le=\"+Inf\"} 2\n"
            "fulcrum_h_seconds_sum 1\nfulcrum_h_seconds_count 2\n")
        with self.assertRaises(AssertionError):
            check_histogram(self, "fulcrum_h_seconds", histogram["fulcrum_h_seconds"]["samples"])
        counter = parse_prometheus("# HELP fulcrum_c c\n# TYPE fulcrum_c counter\nfulcrum_c 1\n")
        with self.assertRaises(AssertionError):
            check_conventions(self, counter)


if __name__ == "__main__":
    unittest.main()
