#include "sim/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "config/schema.h"
#include "config/yaml_reader.h"

namespace fulcrum::sim {

namespace {

using config::DurationSyntax;
using config::detail::Field;
using config::detail::MapReader;
using config::detail::read_choice;
using config::detail::read_int;
using config::detail::read_list;
using config::detail::read_positive_number;
using config::detail::read_string;
using config::detail::read_uint;
using config::detail::Source;

constexpr uint64_t kMaxRequests = 1'000'000'000;
constexpr int64_t kMaxWeight = 1'000'000;
// About eleven days: far beyond any useful run, far below where nanosecond times overflow.
constexpr double kMaxSpanSeconds = 1e6;

// In Action's order, so that an index is an Action.
constexpr std::string_view kActionNames[] = {"fail",    "recover", "agent_load", "drain",
                                             "disable", "enable",  "weight"};
static_assert(std::size(kActionNames) == static_cast<std::size_t>(Action::kWeight) + 1);

constexpr std::string_view kScenarioFileKeys[] = {
    "seed", "requests", "rate", "request_duration", "default_latency", "latency", "keys", "events"};
constexpr config::schema::Section kScenarioFile{"scenario file", kScenarioFileKeys};
constexpr std::string_view kEventKeys[] = {"at", "server", "action", "load", "weight"};
constexpr config::schema::Section kEvent{"event", kEventKeys};

core::Nanos read_duration(const Source& source, const Field& field) {
  return config::detail::read_duration(source, field, /*allow_zero=*/true, DurationSyntax::kFine);
}

std::size_t read_server_ref(const Source& source, const Field& field,
                            const ClusterConfig& cluster) {
  const std::string address = read_string(source, field);
  auto index = cluster.find(address);
  if (!index) {
    source.fail(field.mark(),
                fmt::format("server '{}' is not in cluster '{}'", address, cluster.name));
  }
  return *index;
}

Event read_event(const Source& source, const Field& item, const ClusterConfig& cluster) {
  const MapReader m(source, item, kEvent);
  Event event;
  event.at = read_duration(source, m.require("at"));
  event.server = read_server_ref(source, m.require("server"), cluster);
  event.action = static_cast<Action>(read_choice(source, m.require("action"), kActionNames));
  const std::string_view name = to_string(event.action);

  // Each value key belongs to exactly one action; anything else is a mistake worth reporting.
  const std::string_view value_key = event.action == Action::kAgentLoad ? "load"
                                     : event.action == Action::kWeight  ? "weight"
                                                                        : "";
  for (const auto& entry : item.value) {
    const std::string& key = entry.first.Scalar();
    if ((key == "load" || key == "weight") && key != value_key) {
      source.fail(entry.first.Mark(), fmt::format("'{}' does not apply to action '{}'", key, name));
    }
  }
  if (value_key.empty()) return event;
  const Field* value = m.find(value_key);
  if (value == nullptr) {
    source.fail(m.mark(), fmt::format("missing required key '{}' in {} event", value_key, name));
  }
  event.value = event.action == Action::kAgentLoad ? read_int(source, *value, -1, 100)
                                                   : read_int(source, *value, 0, kMaxWeight);
  return event;
}

// Server address -> duration: keys are the cluster's addresses, so no fixed schema applies.
void read_latency(const Source& source, const Field& field, const ClusterConfig& cluster,
                  std::vector<core::Nanos>& latency) {
  if (!field.value.IsMap()) {
    source.fail(field.mark(), "latency must map server addresses to durations");
  }
  std::vector<bool> seen(cluster.servers.size(), false);
  for (const auto& entry : field.value) {
    const std::size_t server =
        read_server_ref(source, Field{"", entry.first, std::nullopt}, cluster);
    if (seen[server]) source.fail(entry.first.Mark(), "latency given twice for the same server");
    seen[server] = true;
    latency[server] =
        read_duration(source, Field{entry.first.Scalar(), entry.second, entry.first.Mark()});
  }
}

Scenario read_scenario(const Source& source, const Field& root, const ClusterConfig& cluster) {
  const MapReader m(source, root, kScenarioFile);
  Scenario s;
  if (const Field* f = m.find("seed")) {
    s.seed = read_uint(source, *f, 0, std::numeric_limits<uint64_t>::max());
  }
  s.requests = read_uint(source, m.require("requests"), 1, kMaxRequests);
  const Field& rate = m.require("rate");
  s.rate = read_positive_number(source, rate);
  if (static_cast<double>(s.requests) / s.rate > kMaxSpanSeconds) {
    source.fail(rate.mark(),
                fmt::format("{} requests at this rate would span more than {} simulated seconds",
                            s.requests, kMaxSpanSeconds));
  }
  if (const Field* f = m.find("request_duration")) s.request_duration = read_duration(source, *f);
  if (const Field* f = m.find("default_latency")) s.default_latency = read_duration(source, *f);

  s.latency.assign(cluster.servers.size(), s.default_latency);
  if (const Field* f = m.find("latency")) read_latency(source, *f, cluster, s.latency);
  if (const Field* f = m.find("keys")) {
    s.keys = read_uint(source, *f, 1, kMaxRequests);
  }
  if (const Field* f = m.find("events")) {
    // No events is a valid scenario: steady traffic.
    for (const Field& item : read_list(source, *f, /*allow_empty=*/true)) {
      s.events.push_back(read_event(source, item, cluster));
    }
    std::stable_sort(s.events.begin(), s.events.end(),
                     [](const Event& a, const Event& b) { return a.at < b.at; });
  }
  return s;
}

}  // namespace

std::string_view to_string(Action action) {
  const auto index = static_cast<std::size_t>(action);
  return index < std::size(kActionNames) ? kActionNames[index] : "unknown";
}

core::Nanos Scenario::arrival(uint64_t i) const {
  // Rounded to the nanosecond from an exact-enough long double, so arrivals never drift.
  return core::Nanos{static_cast<int64_t>(
      std::llround(static_cast<long double>(i) * 1e9L / static_cast<long double>(rate)))};
}

Scenario load_scenario_file(const std::string& path, const ClusterConfig& cluster) {
  return parse_scenario(config::detail::read_file(path), path, cluster);
}

Scenario parse_scenario(const std::string& text, const std::string& file_name,
                        const ClusterConfig& cluster) {
  const Source source(file_name);
  return read_scenario(source, detail::load_root(source, text), cluster);
}

}  // namespace fulcrum::sim
