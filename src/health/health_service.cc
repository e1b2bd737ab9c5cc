#include "health/health_service.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <random>
#include <unordered_map>

#include "core/cluster_health.h"
#include "generation/generation.h"
#include "net/no_throw.h"

namespace fulcrum::health {
namespace {

std::vector<WatchedCluster> watched_clusters(generation::Generation& runtime) {
  std::vector<WatchedCluster> out;
  for (auto& cluster : runtime.clusters()) {
    const auto& c = cluster.config;
    out.push_back(
        {cluster.cluster.get(), {c.name, c.health_check, c.agent, c.health, cluster.tls}});
  }
  return out;
}

std::string describe_checks(const ClusterHealthConfig& c) {
  const auto& h = c.check;
  std::string what = h.type == config::HealthCheckType::kHttp
                         ? fmt::format("http {} {}", h.method, h.path)
                         : std::string("tcp");
  return fmt::format("{} every {} (fast {}, down {}), timeout {}, rise {}, fall {}", what,
                     format_duration(h.interval), format_duration(h.fast_interval),
                     format_duration(h.down_interval), format_duration(h.timeout), h.rise, h.fall);
}

}  // namespace

HealthService::HealthService(std::vector<WatchedCluster> clusters, const HealthService* previous)
    : rng_(std::random_device{}()), previous_(previous) {
  for (auto& target : clusters) {
    auto watch = std::make_unique<Watch>();
    watch->target = std::move(target);
    sync_members(*watch);
    watches_.push_back(std::move(watch));
  }
  previous_ = nullptr;  // Only for the servers present at construction.
}

HealthService::HealthService(generation::Generation& runtime, const HealthService* previous)
    : HealthService(watched_clusters(runtime), previous) {}

const ServerProbe* HealthService::inherited(const Watch& watch, const ServerProbe& probe) const {
  if (previous_ == nullptr) return nullptr;
  for (const auto& before : previous_->watches_) {
    if (before->target.config.name != watch.target.config.name) continue;
    const auto found = before->probes.find(probe.spec.address);
    if (found == before->probes.end() || found->second->state != probe.state) return nullptr;
    const ServerProbe& old = *found->second;
    const bool same_kinds = old.checks_enabled() == probe.checks_enabled() &&
                            old.agent_enabled() == probe.agent_enabled();
    return same_kinds ? &old : nullptr;
  }
  return nullptr;
}

HealthService::~HealthService() { stop(); }

void HealthService::start() {
  if (started_) return;
  started_ = true;
  for (auto& watch : watches_) {
    const ClusterHealthConfig& c = watch->target.config;
    if (c.check.enabled()) {
      spdlog::info("cluster {}: health checks {}", c.name, describe_checks(c));
    }
    std::size_t index = 0;
    for (auto& [address, probe] : watch->probes) spawn(*watch, probe, index++);
    asio::co_spawn(*io_, maintain(*watch), asio::detached);
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "fulcrum-health");  // As `top -H` shows it.
    io_->run();
  });
}

void HealthService::stop() {
  io_->stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::pair<std::shared_ptr<ServerProbe>, std::size_t>> HealthService::sync_members(
    Watch& watch) {
  const core::SnapshotPtr snapshot = watch.target.cluster->snapshot();
  watch.seen_version = snapshot->version;
  std::unordered_map<std::string_view, const core::Member*> members;
  for (const auto& tier : snapshot->tiers) {
    for (const auto& member : tier.members) members.emplace(member.spec.address, &member);
  }
  std::vector<std::pair<std::shared_ptr<ServerProbe>, std::size_t>> added;
  std::map<std::string, std::shared_ptr<ServerProbe>> kept;
  for (std::size_t i = 0; i < snapshot->servers.size(); ++i) {
    const auto found = members.find(snapshot->servers[i].address);
    if (found == members.end()) continue;
    const core::Member& member = *found->second;
    auto existing = watch.probes.find(member.spec.address);
    if (existing != watch.probes.end() && existing->second->state == member.state) {
      existing->second->spec = member.spec;  // New resolved address or weight.
      kept.emplace(member.spec.address, std::move(existing->second));
      continue;
    }
    auto probe = std::make_shared<ServerProbe>(watch.target.config, member.spec, member.state);
    if (!probe->checks_enabled() && !probe->agent_enabled()) continue;
    if (const ServerProbe* before = inherited(watch, *probe)) {
      // A reload: the server's state carries over; only the rise/fall counting restarts.
      const auto& check = watch.target.config.check;
      probe->rise_fall = RiseFall(check.rise, check.fall, before->rise_fall.up());
      probe->last_failure = before->last_failure;
    } else {
      probe->apply_initial_state();
    }
    added.emplace_back(probe, i);
    kept.emplace(member.spec.address, std::move(probe));
  }
  for (auto& [address, probe] : watch.probes) {
    if (probe) probe->removed = true;  // Moved-from entries were kept.
  }
  watch.probes = std::move(kept);
  return added;
}

void HealthService::spawn(Watch& watch, const std::shared_ptr<ServerProbe>& probe,
                          std::size_t index) {
  const ClusterHealthConfig& c = watch.target.config;
  const std::size_t count = std::max<std::size_t>(watch.probes.size(), index + 1);
  if (probe->checks_enabled()) {
    // Spread over the interval by position, then a random share of the jitter on top, so that
    // proxies started together do not check a server at the same instant either.
    const auto spread =
        static_cast<uint64_t>(c.check.interval.count()) * c.check.jitter_percent / 100;
    const core::Nanos first = first_check_offset(c.check.interval, index, count) +
                              core::Nanos{static_cast<int64_t>(rng_.below(spread + 1))};
    asio::co_spawn(*io_, run_checks(probe, context_, first), asio::detached);
  }
  if (probe->agent_enabled()) {
    asio::co_spawn(*io_,
                   run_agent(probe, context_, first_check_offset(c.agent.interval, index, count)),
                   asio::detached);
  }
}

asio::awaitable<void> HealthService::maintain(Watch& watch) {
  asio::steady_timer timer(*io_);
  for (;;) {
    timer.expires_after(core::kSweepPeriod);
    auto [ec] = co_await timer.async_wait(net::kNoThrow);
    if (ec) co_return;
    if (watch.target.cluster->version() != watch.seen_version) {
      for (auto& [probe, index] : sync_members(watch)) spawn(watch, probe, index);
    }
    const core::SnapshotPtr snapshot = watch.target.cluster->snapshot();
    const core::SweepResult swept = core::sweep(*snapshot, clock_.now());
    const std::string& name = watch.target.config.name;
    for (const auto& server : swept.returned) {
      spdlog::info("cluster {}: server {} returns after outlier ejection (ejected {} times)", name,
                   server.address, server.times_ejected);
    }
    if (swept.panic_changed && swept.panic) {
      spdlog::warn(
          "cluster {}: panic: {} of {} servers healthy (threshold {}%), balancing over "
          "all of them except those offline by passive tracking",
          name, swept.healthy, swept.considered, snapshot->health.panic_threshold);
    } else if (swept.panic_changed) {
      spdlog::info("cluster {}: panic over: {} of {} servers healthy", name, swept.healthy,
                   swept.considered);
    }
  }
}

}  // namespace fulcrum::health
