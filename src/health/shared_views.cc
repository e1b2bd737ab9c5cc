#include "health/shared_views.h"

#include <nlohmann/json.hpp>

#include "core/passive.h"
#include "core/server.h"

namespace fulcrum::health {
namespace {

std::string server_id(std::string_view cluster, std::string_view server) {
  std::string id;
  id.reserve(cluster.size() + 1 + server.size());
  id.append(cluster).append("/").append(server);
  return id;
}

}  // namespace

LocalView local_view(const core::ServerState& state, const core::PassiveOptions& passive,
                     int64_t now_ns) {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  if (state.check_health.load(kRelaxed) == core::CheckHealth::kDown) {
    return {true, "health checks"};
  }
  if (state.agent_health.load(kRelaxed) == core::AgentHealth::kSilent) {
    return {true, "agent silent"};
  }
  if (state.ejected_until_ns.load(kRelaxed) > now_ns) return {true, "outlier ejection"};
  const core::PassiveStatus passive_status =
      core::passive_status(state, passive, core::Nanos(now_ns));
  if (passive_status == core::PassiveStatus::kOffline ||
      passive_status == core::PassiveStatus::kTrialBusy) {
    return {true, "connect failures"};
  }
  return {};
}

std::string report_key(std::string_view prefix, std::string_view cluster, std::string_view server,
                       std::string_view instance) {
  std::string key;
  key.reserve(prefix.size() + cluster.size() + server.size() + instance.size() + 2);
  key.append(prefix).append(cluster).append("/").append(server).append("/").append(instance);
  return key;
}

std::optional<ReportKey> parse_report_key(std::string_view prefix, std::string_view key) {
  if (!key.starts_with(prefix)) return std::nullopt;
  key.remove_prefix(prefix.size());
  // Cluster names and instance names have no '/', and neither has a server's host:port.
  const auto first = key.find('/');
  const auto last = key.rfind('/');
  if (first == std::string_view::npos || first == last || first == 0 || last + 1 == key.size() ||
      last == first + 1 || key.find('/', first + 1) != last) {
    return std::nullopt;
  }
  return ReportKey{std::string(key.substr(0, first)),
                   std::string(key.substr(first + 1, last - first - 1)),
                   std::string(key.substr(last + 1))};
}

std::string report_value(const LocalView& view) {
  nlohmann::json json{{"state", view.down ? "down" : "up"}};
  if (view.down) json["reason"] = view.reason;
  return json.dump();
}

std::optional<LocalView> parse_report_value(std::string_view value) {
  const auto json = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  const auto state = json.find("state");
  if (state == json.end() || !state->is_string()) return std::nullopt;
  LocalView view;
  if (*state == "down") {
    view.down = true;
  } else if (*state != "up") {
    return std::nullopt;
  }
  if (const auto reason = json.find("reason"); reason != json.end() && reason->is_string()) {
    view.reason = reason->get<std::string>();
  }
  return view;
}

bool PeerReports::put(std::string_view prefix, std::string_view key, std::string_view value) {
  const auto parsed_key = parse_report_key(prefix, key);
  const auto view = parsed_key ? parse_report_value(value) : std::nullopt;
  if (!view) {
    remove(key);
    return false;
  }
  if (parsed_key->instance == own_) return true;
  auto [it, inserted] = reports_.try_emplace(std::string(key));
  if (!inserted) {
    if (it->second.down == view->down) return true;
    if (it->second.down) {
      auto count = down_counts_.find(it->second.server_id);
      if (--count->second == 0) down_counts_.erase(count);
    }
  } else {
    it->second.server_id = server_id(parsed_key->cluster, parsed_key->server);
  }
  it->second.down = view->down;
  if (view->down) ++down_counts_[it->second.server_id];
  return true;
}

void PeerReports::forget(std::unordered_map<std::string, Report>::iterator it) {
  if (it->second.down) {
    auto count = down_counts_.find(it->second.server_id);
    if (--count->second == 0) down_counts_.erase(count);
  }
  reports_.erase(it);
}

void PeerReports::remove(std::string_view key) {
  const auto it = reports_.find(std::string(key));
  if (it != reports_.end()) forget(it);
}

void PeerReports::clear() {
  reports_.clear();
  down_counts_.clear();
}

uint32_t PeerReports::down_count(std::string_view cluster, std::string_view server) const {
  const auto it = down_counts_.find(server_id(cluster, server));
  return it == down_counts_.end() ? 0 : it->second;
}

}  // namespace fulcrum::health
