#include "admin/removals.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fulcrum::admin {
namespace {
constexpr std::size_t kMaxFinished = 1024;  // Outcomes kept for ?wait=true and repeated DELETEs.
}

std::string Removals::key(std::string_view cluster, std::string_view address) {
  std::string k(cluster);
  k += '/';
  k += address;
  return k;
}

bool Removals::begin(std::shared_ptr<core::Cluster> cluster, const std::string& address,
                     std::string origin, core::Nanos now, core::Nanos timeout) {
  if (pending(cluster->name(), address)) return false;
  finished_.erase(key(cluster->name(), address));
  pending_.push_back(Item{std::move(cluster), address, std::move(origin), now, now + timeout});
  return true;
}

bool Removals::pending(std::string_view cluster, std::string_view address) const {
  return std::any_of(pending_.begin(), pending_.end(), [&](const Item& item) {
    return item.cluster->name() == cluster && item.address == address;
  });
}

std::optional<Removals::Outcome> Removals::outcome(std::string_view cluster,
                                                   std::string_view address) const {
  const auto it = finished_.find(key(cluster, address));
  if (it == finished_.end()) return std::nullopt;
  return it->second;
}

void Removals::finish(const Item& item, Outcome outcome) {
  if (finished_.size() >= kMaxFinished) finished_.clear();
  finished_[key(item.cluster->name(), item.address)] = outcome;
}

void Removals::poll(core::Nanos now) {
  std::erase_if(pending_, [&](const Item& item) {
    core::Cluster& cluster = *item.cluster;
    const auto state = cluster.state_of(item.address);
    const auto took = now - item.started;
    const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
    if (!state) {  // Someone else removed it meanwhile: the goal is reached.
      finish(item, Outcome{.removed = true, .took = took});
      return true;
    }
    if (state->admin_state.load(std::memory_order_relaxed) == core::AdminState::kEnabled) {
      spdlog::info(
          "admin: removal of server {} from cluster '{}' (requested by {}) cancelled: "
          "the server was enabled again",
          item.address, cluster.name(), item.origin);
      finish(item, Outcome{.removed = false, .took = took});
      return true;
    }
    const int32_t connections = state->active_connections.load(std::memory_order_relaxed);
    const int32_t in_flight = state->in_flight.load(std::memory_order_relaxed);
    const bool idle = connections <= 0 && in_flight <= 0;
    if (!idle && now < item.deadline) return false;
    cluster.remove_server(item.address);
    if (idle) {
      spdlog::info(
          "admin: server {} removed from cluster '{}' after draining for {} ms "
          "(requested by {})",
          item.address, cluster.name(), took_ms, item.origin);
    } else {
      spdlog::warn(
          "admin: server {} removed from cluster '{}' at the drain timeout ({} ms) with "
          "{} connections still open; they finish on their own (requested by {})",
          item.address, cluster.name(), took_ms, connections, item.origin);
    }
    finish(item,
           Outcome{.removed = true, .open_connections = idle ? 0 : connections, .took = took});
    return true;
  });
}

}  // namespace fulcrum::admin
