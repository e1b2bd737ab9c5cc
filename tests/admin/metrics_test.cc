// GET /metrics: the Prometheus text format, with values read from the live counters.
#include <map>
#include <sstream>

#include "admin/prometheus.h"
#include "core/server_stats.h"
#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

/// "name{labels}" -> value, and family name -> type.
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
};

Scrape parse(const std::string& text) {
  Scrape scrape;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      scrape.types[name] = type;
    } else if (!line.empty() && line[0] != '#') {
      const std::size_t space = line.rfind(' ');
      scrape.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
  }
  return scrape;
}

TEST(PrometheusText, EscapesLabelValuesAndWritesFamiliesWhole) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  PrometheusText out;
  out.family("x_total", "counter", "Things.");
  out.sample("x_total", {{"k", "v"}}, uint64_t{3});
  out.sample("x_total", {}, 0.25);
  out.bucket("h_bucket", {{"k", "v"}}, "+Inf", 4);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\n# TYPE x_total counter\nx_total{k=\"v\"} 3\nx_total 0.25\n"
            "h_bucket{k=\"v\",le=\"+Inf\"} 4\n");
}

TEST_F(AdminTest, MetricsReportServerListenerAndProcessFigures) {
  start("{ listen: 127.0.0.1:0 }");
  const auto server = state("web", "127.0.0.1:9001");
  server->picks_total = 7;
  server->failures_total = 2;
  server->active_connections = 3;
  core::record_response(server->stats, 200, std::chrono::milliseconds(3));
  core::record_response(server->stats, 204, std::chrono::milliseconds(30));
  core::record_response(server->stats, 503, std::chrono::seconds(20));
  core::record_retry(server->stats);
  runtime_->listeners()[0]->accepted_total = 11;

  const Reply reply = request(port_, "GET", "/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const Scrape scrape = parse(reply.body);
  const std::string labels = R"({cluster="web",server="127.0.0.1:9001")";
  EXPECT_EQ(scrape.samples.at("fulcrum_server_requests_total" + labels + "}"), 7);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_connect_failures_total" + labels + "}"), 2);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_active_connections" + labels + "}"), 3);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_retries_total" + labels + "}"), 1);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_responses_total" + labels + R"(,class="2xx"})"), 2);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_responses_total" + labels + R"(,class="5xx"})"), 1);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_weight" + labels + "}"), 2);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_admin_state" + labels + R"(,state="enabled"})"), 1);
  const std::string bucket = "fulcrum_server_response_latency_seconds_bucket" + labels;
  EXPECT_EQ(scrape.samples.at(bucket + R"(,le="0.001"})"), 0);
  EXPECT_EQ(scrape.samples.at(bucket + R"(,le="0.005"})"), 1);
  EXPECT_EQ(scrape.samples.at(bucket + R"(,le="0.05"})"), 2);
  EXPECT_EQ(scrape.samples.at(bucket + R"(,le="10"})"), 2);
  EXPECT_EQ(scrape.samples.at(bucket + R"(,le="+Inf"})"), 3);
  EXPECT_EQ(scrape.samples.at("fulcrum_server_response_latency_seconds_count" + labels + "}"), 3);
  EXPECT_DOUBLE_EQ(scrape.samples.at("fulcrum_server_response_latency_seconds_sum" + labels + "}"),
                   20.033);
  EXPECT_EQ(scrape.types.at("fulcrum_server_response_latency_seconds"), "histogram");
  EXPECT_EQ(scrape.samples.at(R"(fulcrum_listener_accepted_connections_total{listener="web"})"),
            11);
  EXPECT_EQ(scrape.samples.at(R"(fulcrum_cluster_servers{cluster="web"})"), 3);
  EXPECT_GT(scrape.samples.at("fulcrum_process_resident_memory_bytes"), 1e6);
  EXPECT_GE(scrape.samples.at("fulcrum_process_open_fds"), 3);
  EXPECT_GE(scrape.samples.at("fulcrum_process_uptime_seconds"), 0);
  for (const auto& [name, type] : scrape.types) {
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    }
    EXPECT_EQ(name.rfind("fulcrum_", 0), 0u) << name;
  }
}

TEST(ServerStats, CountsClassesAndBucketsAtTheirBounds) {
  core::ServerStats stats;
  core::record_response(stats, 101, std::chrono::microseconds(500));  // On the first bound.
  core::record_response(stats, 600, std::chrono::microseconds(501));
  core::record_response(stats, 404, std::chrono::seconds(11));
  EXPECT_EQ(stats.responses[1].load(), 1u);
  EXPECT_EQ(stats.responses[0].load(), 1u) << "outside 100..599";
  EXPECT_EQ(stats.responses[4].load(), 1u);
  EXPECT_EQ(stats.latency_buckets[0].load(), 1u);
  EXPECT_EQ(stats.latency_buckets[1].load(), 1u);
  EXPECT_EQ(stats.latency_buckets.back().load(), 1u);
  EXPECT_EQ(stats.latency_sum_ns.load(), 500'000u + 501'000u + 11'000'000'000u);
}

}  // namespace
}  // namespace fulcrum::admin::testing
