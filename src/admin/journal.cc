#include "admin/journal.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "admin/members.h"
#include "admin/server_status.h"
#include "net/endpoint.h"

namespace fulcrum::admin {
namespace {

using json = nlohmann::ordered_json;

}  // namespace

Journal::Journal(std::string path) : path_(std::move(path)) {}

std::optional<Journal::Configured> Journal::configured_in(const generation::ClusterRuntime& cluster,
                                                          std::string_view address) {
  for (const auto& server : cluster.config.servers) {
    if (server.address == address) return Configured{server.weight, server.backup};
  }
  return std::nullopt;
}

void Journal::record(const generation::ClusterRuntime& cluster, std::string_view address) {
  Entry entry;
  entry.configured = configured_in(cluster, address);
  const core::SnapshotPtr snapshot = cluster.cluster->snapshot();
  if (const core::Member* member = find_member(*snapshot, address)) {
    entry.current = {member->spec.weight, member->spec.backup};
    entry.state = member->state->admin_state.load();
  } else {
    entry.present = false;
  }
  put(cluster, address, entry);
}

void Journal::record_removed(const generation::ClusterRuntime& cluster, std::string_view address) {
  Entry entry;
  entry.configured = configured_in(cluster, address);
  entry.present = false;
  put(cluster, address, entry);
}

void Journal::put(const generation::ClusterRuntime& cluster, std::string_view address,
                  const Entry& entry) {
  const Key key{cluster.config.name, std::string(address)};
  const bool as_configured = entry.present && entry.configured &&
                             entry.current == *entry.configured &&
                             entry.state == core::AdminState::kEnabled;
  const bool never_existed = !entry.present && !entry.configured;
  if (as_configured || never_existed) {
    entries_.erase(key);  // Nothing left to re-apply.
  } else {
    entries_[key] = entry;
  }
  save();
}

bool Journal::apply_entry(generation::ClusterRuntime& cluster, const std::string& address,
                          const Entry& entry) {
  core::Cluster& core_cluster = *cluster.cluster;
  if (!entry.present) {
    core_cluster.remove_server(address);
    return true;
  }
  if (!core_cluster.state_of(address)) {
    std::string reason;
    const auto resolved = net::resolve_server_address(address, &reason);
    if (!resolved) {
      spdlog::warn("admin: journal: server {} of cluster '{}' not re-added: cannot resolve: {}",
                   address, cluster.config.name, reason);
      return false;
    }
    core_cluster.add_server(core::ServerSpec{.address = address,
                                             .weight = entry.current.weight,
                                             .backup = entry.current.backup,
                                             .resolved = *resolved});
  } else {
    core_cluster.set_weight(address, entry.current.weight);
  }
  if (const auto state = core_cluster.state_of(address)) state->admin_state.store(entry.state);
  return true;
}

std::size_t Journal::apply(generation::Generation& runtime) {
  std::size_t applied = 0;
  bool dropped = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto& [cluster_name, address] = it->first;
    generation::ClusterRuntime* cluster = nullptr;
    for (auto& candidate : runtime.clusters()) {
      if (candidate.config.name == cluster_name) cluster = &candidate;
    }
    if (cluster == nullptr || configured_in(*cluster, address) != it->second.configured) {
      spdlog::info("admin: journal: the configuration now decides server {} of cluster '{}'",
                   address, cluster_name);
      it = entries_.erase(it);
      dropped = true;
      continue;
    }
    if (apply_entry(*cluster, address, it->second)) ++applied;
    ++it;
  }
  if (dropped) save();
  return applied;
}

void Journal::load() {
  if (path_.empty()) return;
  std::ifstream in(path_);
  if (!in) return;  // No journal yet.
  try {
    const json doc = json::parse(in);
    for (const auto& item : doc.at("servers")) {
      Entry entry;
      if (!item.at("configured").is_null()) {
        entry.configured = Configured{item["configured"].at("weight").get<uint32_t>(),
                                      item["configured"].at("backup").get<bool>()};
      }
      entry.present = item.at("present").get<bool>();
      entry.current = {item.at("weight").get<uint32_t>(), item.at("backup").get<bool>()};
      const auto state = state_for_verb(item.at("state").get<std::string>());
      if (!state) throw std::runtime_error("unknown state " + item["state"].dump());
      entry.state = *state;
      entries_[{item.at("cluster").get<std::string>(), item.at("address").get<std::string>()}] =
          entry;
    }
    spdlog::info("admin: journal {}: {} run-time server changes", path_, entries_.size());
  } catch (const std::exception& e) {
    entries_.clear();
    const std::string aside = path_ + ".bad";
    std::error_code ec;
    std::filesystem::rename(path_, aside, ec);
    spdlog::error("admin: journal {} is damaged ({}); ignored and moved to {}", path_, e.what(),
                  aside);
  }
}

void Journal::save() const {
  if (path_.empty()) return;
  json servers = json::array();
  for (const auto& [key, entry] : entries_) {
    json configured = nullptr;
    if (entry.configured) {
      configured = {{"weight", entry.configured->weight}, {"backup", entry.configured->backup}};
    }
    servers.push_back({{"cluster", key.first},
                       {"address", key.second},
                       {"configured", configured},
                       {"present", entry.present},
                       {"weight", entry.current.weight},
                       {"backup", entry.current.backup},
                       {"state", verb_of(entry.state)}});
  }
  const json doc = {{"version", 1}, {"servers", servers}};
  const std::string temporary = path_ + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << doc.dump(2) << '\n';
    if (!out.flush()) {
      spdlog::error(
          "admin: cannot write the journal {}: run-time changes will not survive a "
          "restart",
          temporary);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path_, ec);
  if (ec) spdlog::error("admin: cannot replace the journal {}: {}", path_, ec.message());
}

}  // namespace fulcrum::admin
