#include "health/health_sharing.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <future>

#include "discovery/etcd_source.h"
#include "generation/generation.h"
#include "net/no_throw.h"

namespace fulcrum::health {
namespace {

using std::chrono::milliseconds;
constexpr auto kRelaxed = std::memory_order_relaxed;

/// Between attempts while etcd cannot be reached.
constexpr milliseconds kRetry{500};
/// Bounds the revoke at shutdown: the lease expires on its own anyway.
constexpr milliseconds kRevokeTimeout{1000};

std::vector<HealthSharing::Target> targets_of(generation::Generation& runtime) {
  std::vector<HealthSharing::Target> out;
  for (auto& cluster : runtime.clusters()) out.push_back({cluster.config.name, cluster.cluster});
  return out;
}

std::vector<discovery::EtcdEndpoint> parse_endpoints(const std::vector<std::string>& texts) {
  std::vector<discovery::EtcdEndpoint> out;
  for (const std::string& text : texts) {
    std::string error;
    auto endpoint = discovery::parse_etcd_endpoint(text, error);
    if (!endpoint) throw std::runtime_error("health_sharing: " + error);
    out.push_back(std::move(*endpoint));
  }
  if (out.empty()) throw std::runtime_error("health_sharing: no etcd endpoints");
  return out;
}

}  // namespace

HealthSharing::HealthSharing(config::HealthSharingConfig config, std::vector<Target> targets,
                             HealthSharing* previous)
    : config_(std::move(config)),
      targets_(std::move(targets)),
      etcd_(io_->get_executor(), parse_endpoints(config_.endpoints),
            discovery::EtcdClient::kDefaultTimeout,
            discovery::etcd_access(config_.tls, config_.auth)),
      peers_(config_.instance) {
  if (previous != nullptr && previous->config_ == config_) {
    lease_ = previous->lease_;
    published_ = std::move(previous->published_);
    views_ = std::move(previous->views_);
    peers_ = std::move(previous->peers_);
  }
}

HealthSharing::HealthSharing(generation::Generation& runtime, HealthSharing* previous)
    : HealthSharing(runtime.config().health_sharing, targets_of(runtime), previous) {}

HealthSharing::~HealthSharing() {
  stop();
  io_.reset();  // Before etcd_: coroutine frames still hold its connections.
}

void HealthSharing::start() {
  if (started_) return;
  started_ = true;
  spdlog::info("health sharing: instance {} at etcd {} under {}, quorum {}, lease TTL {}s",
               config_.instance, etcd_.current_endpoint().to_string(), config_.prefix,
               config_.quorum,
               std::chrono::duration_cast<std::chrono::seconds>(config_.ttl).count());
  watch_lost_at_ = std::chrono::steady_clock::now();
  asio::co_spawn(*io_, run(), asio::detached);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "fulcrum-share");
    io_->run();
  });
}

void HealthSharing::stop(bool leave) {
  if (!started_ || !thread_.joinable()) return;
  asio::post(*io_, [this, leave] {
    stopping_ = true;
    etcd_.cancel();
    if (!leave || lease_ == 0) {
      io_->stop();
      return;
    }
    asio::co_spawn(
        *io_,
        [this]() -> asio::awaitable<void> {
          co_await revoke();
          io_->stop();
        },
        asio::detached);
  });
  thread_.join();
}

asio::awaitable<void> HealthSharing::revoke() {
  discovery::EtcdClient client(io_->get_executor(), parse_endpoints(config_.endpoints),
                               kRevokeTimeout, discovery::etcd_access(config_.tls, config_.auth));
  if (const auto error = co_await client.lease_revoke(lease_)) {
    spdlog::warn("health sharing: cannot revoke lease {:x}: {} (the reports leave when it expires)",
                 lease_, error.message);
  } else {
    spdlog::info("health sharing: reports withdrawn (lease {:x} revoked)", lease_);
  }
  lease_ = 0;
}

void HealthSharing::report(const std::string& problem) {
  if (problem == last_problem_) return;
  if (!problem.empty()) spdlog::warn("health sharing: {}", problem);
  last_problem_ = problem;
}

asio::awaitable<void> HealthSharing::sleep(milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(delay);
  co_await timer.async_wait(net::kNoThrow);  // cancelled or expired: both end the wait
}

asio::awaitable<void> HealthSharing::run() {
  asio::co_spawn(*io_, keep_lease(), asio::detached);
  asio::co_spawn(*io_, watch_reports(), asio::detached);
  co_await publish();
}

asio::awaitable<void> HealthSharing::keep_lease() {
  const int64_t ttl_seconds = std::chrono::duration_cast<std::chrono::seconds>(config_.ttl).count();
  const auto keepalive_interval = std::chrono::duration_cast<milliseconds>(config_.ttl) / 3;
  while (!stopping_) {
    if (lease_ == 0) {
      const auto lease = co_await etcd_.lease_grant(ttl_seconds);
      if (stopping_) break;
      if (!lease.ok()) {
        report("cannot grant a lease: " + lease.error.message + " (retrying)");
        co_await sleep(kRetry);
        continue;
      }
      lease_ = lease.value.id;
      published_.clear();  // Everything is written again, under the new lease.
      spdlog::info("health sharing: lease {:x} granted by etcd {}", lease_,
                   etcd_.current_endpoint().to_string());
    }
    co_await sleep(keepalive_interval);
    if (stopping_) break;
    const auto alive = co_await etcd_.lease_keepalive(lease_);
    if (stopping_) break;
    const bool gone = alive.ok() ? alive.value.ttl_seconds == 0
                                 : alive.error.grpc_code == discovery::kGrpcNotFound;
    if (gone) {
      spdlog::warn(
          "health sharing: lease {:x} is gone (expired or lost by etcd); "
          "publishing again under a new one",
          lease_);
      lease_ = 0;
    } else if (!alive.ok()) {
      report("cannot keep the lease alive: " + alive.error.message + " (retrying)");
    }
  }
}

asio::awaitable<void> HealthSharing::watch_reports() {
  const std::string& prefix = config_.prefix;
  while (!stopping_) {
    auto range = co_await etcd_.range(prefix);
    if (stopping_) break;
    if (!range.ok()) {
      report("cannot read the reports: " + range.error.message + " (retrying)");
      co_await sleep(kRetry);
      continue;
    }
    peers_.clear();
    for (const auto& kv : range.value.kvs) peers_.put(prefix, kv.key, kv.value);
    watching_ = true;
    report("");
    const auto error = co_await etcd_.watch(
        prefix, range.value.revision + 1, [this, &prefix](const discovery::WatchMessage& message) {
          for (const auto& event : message.events) {
            if (event.type == discovery::EtcdEvent::Type::kPut) {
              peers_.put(prefix, event.key, event.value);
            } else {
              peers_.remove(event.key);
            }
          }
        });
    if (stopping_) break;
    watching_ = false;
    watch_lost_at_ = std::chrono::steady_clock::now();
    report("the watch of the reports ended: " + error.message + " (reading them again)");
    co_await sleep(kRetry);
  }
}

void HealthSharing::apply_verdicts(int64_t now_ns) {
  std::unordered_map<std::string, LocalView> views;
  views.reserve(views_.size());
  for (const Target& target : targets_) {
    const core::SnapshotPtr snapshot = target.cluster->snapshot();
    for (const core::Tier& tier : snapshot->tiers) {
      for (const core::Member& member : tier.members) {
        core::ServerState& state = *member.state;
        LocalView view = local_view(state, snapshot->passive, now_ns);
        const uint32_t peers = peers_.down_count(target.name, member.spec.address);
        const uint32_t reports = peers + (view.down ? 1 : 0);
        // Only when another instance sees it down: this one's own view already acts here.
        const bool down = peers > 0 && reports >= config_.quorum;
        state.peer_down_reports.store(static_cast<uint16_t>(std::min<uint32_t>(reports, 65535)),
                                      kRelaxed);
        if (state.down_by_peers.exchange(down, kRelaxed) != down) {
          if (down) {
            spdlog::warn(
                "cluster {}: server {} is down by shared health: {} instance(s) report it "
                "down (quorum {})",
                target.name, member.spec.address, reports, config_.quorum);
          } else {
            spdlog::info(
                "cluster {}: server {} is no longer down by shared health ({} report(s) "
                "down, quorum {})",
                target.name, member.spec.address, reports, config_.quorum);
          }
        }
        views.emplace(
            report_key(config_.prefix, target.name, member.spec.address, config_.instance),
            std::move(view));
      }
    }
  }
  views_ = std::move(views);
}

asio::awaitable<void> HealthSharing::write_changes(int64_t lease) {
  // What changed since the last write, and the servers that left: in transactions of up to
  // kMaxBatch writes, so a cluster of thousands of servers is published in tens of calls.
  std::vector<std::pair<std::string, std::optional<LocalView>>> changes;
  for (const auto& [key, view] : views_) {
    const auto it = published_.find(key);
    if (it == published_.end() || !(it->second == view)) changes.emplace_back(key, view);
  }
  for (const auto& [key, view] : published_) {
    if (!views_.contains(key)) changes.emplace_back(key, std::nullopt);
  }
  for (std::size_t begin = 0; begin < changes.size(); begin += discovery::EtcdClient::kMaxBatch) {
    const std::size_t end = std::min(changes.size(), begin + discovery::EtcdClient::kMaxBatch);
    std::vector<discovery::EtcdWrite> writes;
    writes.reserve(end - begin);
    for (std::size_t i = begin; i < end; ++i) {
      const auto& [key, view] = changes[i];
      writes.push_back(view ? discovery::EtcdWrite{key, report_value(*view)}
                            : discovery::EtcdWrite{key, {}, /*remove=*/true});
    }
    const auto written = co_await etcd_.write_batch(std::move(writes), lease);
    // A new lease meanwhile cleared published_: everything is written again under it.
    if (stopping_ || lease != lease_) co_return;
    if (!written.ok()) {
      report("cannot publish the views: " + written.error.message + " (retrying)");
      co_return;
    }
    for (std::size_t i = begin; i < end; ++i) {
      auto& [key, view] = changes[i];
      if (view) {
        published_[key] = std::move(*view);
      } else {
        published_.erase(key);
      }
    }
  }
}

asio::awaitable<void> HealthSharing::publish() {
  const core::SteadyClock clock;
  while (!stopping_) {
    if (!watching_ && peers_.size() > 0 &&
        std::chrono::steady_clock::now() - watch_lost_at_ > config_.ttl) {
      spdlog::warn(
          "health sharing: etcd out of reach for longer than the lease TTL: the other "
          "instances' reports are dropped; servers are judged by this instance alone");
      peers_.clear();
    }
    apply_verdicts(clock.now().count());
    const int64_t lease = lease_;
    if (lease != 0) co_await write_changes(lease);
    co_await sleep(kTick);
  }
}

}  // namespace fulcrum::health
