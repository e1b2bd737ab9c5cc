#include "sim/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "sim/yaml_reader.h"

namespace fulcrum::sim {

namespace {

constexpr uint64_t kMaxRequests = 1'000'000'000;
constexpr int64_t kMaxWeight = 1'000'000;
// About eleven days: far beyond any useful run, far below where nanosecond times overflow.
constexpr double kMaxSpanSeconds = 1e6;

constexpr std::array<std::pair<std::string_view, Action>, 7> kActions{{
    {"fail", Action::kFail},
    {"recover", Action::kRecover},
    {"agent_load", Action::kAgentLoad},
    {"drain", Action::kDrain},
    {"disable", Action::kDisable},
    {"enable", Action::kEnable},
    {"weight", Action::kWeight},
}};

std::size_t read_server_ref(const YamlReader& r, const YAML::Node& node,
                            const ClusterConfig& cluster) {
  const std::string address = r.string(node, "server");
  auto index = cluster.find(address);
  if (!index)
    r.fail(node, fmt::format("server '{}' is not in cluster '{}'", address, cluster.name));
  return *index;
}

Event read_event(const YamlReader& r, const YAML::Node& node, const ClusterConfig& cluster) {
  r.expect_map(node, "event", {"at", "server", "action", "load", "weight"});
  Event event;
  event.at = r.duration(r.required(node, "at", "event"), "at");
  event.server = read_server_ref(r, r.required(node, "server", "event"), cluster);

  const YAML::Node action = r.required(node, "action", "event");
  const std::string name = r.string(action, "action");
  auto it = std::find_if(kActions.begin(), kActions.end(),
                         [&](const auto& entry) { return entry.first == name; });
  if (it == kActions.end()) {
    r.fail(action, fmt::format("unknown action '{}' (expected one of: fail, recover, agent_load, "
                               "drain, disable, enable, weight)",
                               name));
  }
  event.action = it->second;

  // Each value key belongs to exactly one action; anything else is a mistake worth reporting.
  const std::string_view value_key = event.action == Action::kAgentLoad ? "load"
                                     : event.action == Action::kWeight  ? "weight"
                                                                        : "";
  for (const auto& entry : node) {
    const std::string& key = entry.first.Scalar();
    if ((key == "load" || key == "weight") && key != value_key) {
      r.fail(entry.first, fmt::format("'{}' does not apply to action '{}'", key, name));
    }
  }
  if (event.action == Action::kAgentLoad) {
    event.value = r.integer(r.required(node, "load", "agent_load event"), "load", -1, 100);
  } else if (event.action == Action::kWeight) {
    event.value = r.integer(r.required(node, "weight", "weight event"), "weight", 0, kMaxWeight);
  }
  return event;
}

Scenario read_scenario(const YamlReader& r, const YAML::Node& root, const ClusterConfig& cluster) {
  r.expect_map(root, "scenario file",
               {"seed", "requests", "rate", "request_duration", "default_latency", "latency",
                "keys", "events"});
  Scenario s;
  if (auto seed = root["seed"]) {
    s.seed = r.unsigned_integer(seed, "seed", 0, std::numeric_limits<uint64_t>::max());
  }
  s.requests = r.unsigned_integer(r.required(root, "requests", "scenario file"), "requests", 1,
                                  kMaxRequests);
  const YAML::Node rate = r.required(root, "rate", "scenario file");
  s.rate = r.positive_number(rate, "rate");
  if (static_cast<double>(s.requests) / s.rate > kMaxSpanSeconds) {
    r.fail(rate, fmt::format("{} requests at this rate would span more than {} simulated seconds",
                             s.requests, kMaxSpanSeconds));
  }
  if (auto d = root["request_duration"]) s.request_duration = r.duration(d, "request_duration");
  if (auto d = root["default_latency"]) s.default_latency = r.duration(d, "default_latency");

  s.latency.assign(cluster.servers.size(), s.default_latency);
  if (auto latency = root["latency"]) {
    if (!latency.IsMap()) r.fail(latency, "latency must map server addresses to durations");
    std::vector<bool> seen(cluster.servers.size(), false);
    for (const auto& entry : latency) {
      const std::size_t server = read_server_ref(r, entry.first, cluster);
      if (seen[server]) r.fail(entry.first, "latency given twice for the same server");
      seen[server] = true;
      s.latency[server] = r.duration(entry.second, "latency");
    }
  }
  if (auto keys = root["keys"]) s.keys = r.unsigned_integer(keys, "keys", 1, kMaxRequests);

  if (auto events = root["events"]) {
    r.expect_sequence(events, "events");
    for (const YAML::Node& node : events) s.events.push_back(read_event(r, node, cluster));
    std::stable_sort(s.events.begin(), s.events.end(),
                     [](const Event& a, const Event& b) { return a.at < b.at; });
  }
  return s;
}

}  // namespace

std::string_view to_string(Action action) {
  for (const auto& [name, value] : kActions) {
    if (value == action) return name;
  }
  return "unknown";
}

core::Nanos Scenario::arrival(uint64_t i) const {
  // Rounded to the nanosecond from an exact-enough long double, so arrivals never drift.
  return core::Nanos{static_cast<int64_t>(
      std::llround(static_cast<long double>(i) * 1e9L / static_cast<long double>(rate)))};
}

Scenario load_scenario_file(const std::string& path, const ClusterConfig& cluster) {
  YamlReader reader(path);
  return read_scenario(reader, reader.load_file(), cluster);
}

Scenario parse_scenario(const std::string& text, const std::string& file_name,
                        const ClusterConfig& cluster) {
  YamlReader reader(file_name);
  return read_scenario(reader, reader.load_text(text), cluster);
}

}  // namespace fulcrum::sim
