#include "sim/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "sim/duration.h"

namespace fulcrum::sim {

namespace {

std::string describe_outages(const ServerResult& server) {
  if (server.outages.empty()) return "-";
  std::string out;
  for (const Outage& o : server.outages) {
    if (!out.empty()) out += ", ";
    out += format_seconds(o.detected);
    out += " -> ";
    out += o.returned ? format_seconds(*o.returned) : "never";
    if (o.failed_trials > 0) {
      out += fmt::format(" ({} failed trial{})", o.failed_trials, o.failed_trials == 1 ? "" : "s");
    }
  }
  return out;
}

double percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

void append_server_table(std::string& out, const SimulationResult& r) {
  std::size_t width = std::string_view("server").size();
  for (const auto& s : r.servers) width = std::max(width, s.address.size());

  auto out_it = std::back_inserter(out);
  fmt::format_to(out_it, "{:<{}}  {:>6}  {:<7}  {:>9}  {:>6}  {:>7}  {:>8}  {}\n", "server", width,
                 "weight", "role", "served", "share", "refused", "absorbed",
                 "offline (detected -> returned)");
  uint64_t refused = 0;
  uint64_t absorbed = 0;
  for (const auto& s : r.servers) {
    fmt::format_to(out_it, "{:<{}}  {:>6}  {:<7}  {:>9}  {:>5.1f}%  {:>7}  {:>8}  {}\n", s.address,
                   width, s.weight, s.backup ? "backup" : "primary", s.served,
                   percent(s.served, r.requests), s.failed_attempts, s.absorbed,
                   describe_outages(s));
    refused += s.failed_attempts;
    absorbed += s.absorbed;
  }
  fmt::format_to(out_it, "{:<{}}  {:>6}  {:<7}  {:>9}  {:>5.1f}%  {:>7}  {:>8}\n", "total", width,
                 "", "", r.succeeded, percent(r.succeeded, r.requests), refused, absorbed);
}

void append_windows(std::string& out, const SimulationResult& r) {
  auto out_it = std::back_inserter(out);
  std::size_t label_width = 0;
  const std::size_t windows = r.servers.empty() ? 0 : r.servers.front().served_per_window.size();
  std::vector<std::string> labels;
  for (std::size_t w = 0; w < windows; ++w) {
    labels.push_back(
        fmt::format("{}-{}", format_seconds(r.window * w), format_seconds(r.window * (w + 1))));
    label_width = std::max(label_width, labels.back().size());
  }
  fmt::format_to(out_it, "\nServed per {} window:\n{:<{}}", format_seconds(r.window), "window",
                 label_width);
  for (const auto& s : r.servers) fmt::format_to(out_it, "  {:>{}}", s.address, s.address.size());
  out += '\n';
  for (std::size_t w = 0; w < windows; ++w) {
    fmt::format_to(out_it, "{:<{}}", labels[w], label_width);
    for (const auto& s : r.servers) {
      fmt::format_to(out_it, "  {:>{}}", s.served_per_window[w], s.address.size());
    }
    out += '\n';
  }
}

}  // namespace

std::string format_report(const ClusterConfig& cluster, const Scenario& scenario,
                          const SimulationResult& r) {
  std::string out;
  auto out_it = std::back_inserter(out);
  fmt::format_to(out_it,
                 "Cluster '{}', policy {}, {} retries, passive: {} attempts / {} offline timeout\n"
                 "{} requests at {}/s over {} (seed {})\n\n",
                 cluster.name, cluster.policy, cluster.retries, cluster.passive.attempts,
                 format_seconds(cluster.passive.offline_timeout), r.requests, scenario.rate,
                 format_seconds(r.last_arrival), scenario.seed);
  append_server_table(out, r);
  fmt::format_to(out_it,
                 "\nrequests: {} succeeded, {} failed outright ({} with no eligible server, {} "
                 "with retries exhausted); {} retries\n",
                 r.succeeded, r.failed_outright(), r.failed_no_server, r.failed_exhausted,
                 r.retries);
  append_windows(out, r);
  if (!r.timeline.empty()) {
    out += "\nTimeline:\n";
    for (const auto& entry : r.timeline) {
      fmt::format_to(out_it, "  {:>10}  {}\n", format_seconds(entry.at), entry.text);
    }
  }
  return out;
}

std::string format_trace(const ClusterConfig& cluster, const SimulationResult& r) {
  std::string out;
  auto out_it = std::back_inserter(out);
  for (const Attempt& a : r.attempts) {
    fmt::format_to(out_it, "{:>10}  request {:<8}  {}  {}{}\n", format_seconds(a.at), a.request,
                   cluster.servers[a.server].address, a.failed ? "refused" : "ok",
                   a.trial ? " (trial)" : "");
  }
  return out;
}

}  // namespace fulcrum::sim
