#include "agent/registration.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include "net/no_throw.h"

namespace fulcrum::agent {
namespace {

using std::chrono::milliseconds;

/// How long leave() waits for the keepalive loop to notice (it is cancelled, so at once).
constexpr milliseconds kStopWait{2000};

std::string lease_hex(int64_t id) {
  char text[32];
  std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(id));
  return text;
}

}  // namespace

Registrar::Registrar(asio::io_context& io, RegistrationOptions options)
    : io_(io),
      options_(std::move(options)),
      etcd_(io.get_executor(), options_.endpoints, discovery::EtcdClient::kDefaultTimeout,
            options_.access),
      timer_(io) {}

void Registrar::start() {
  maintaining_ = true;
  asio::co_spawn(io_, maintain(), asio::detached);
}

std::string Registrar::value(bool draining) const {
  std::string text = "{\"weight\":" + std::to_string(options_.weight);
  if (draining) text += ",\"drain\":true";
  return text + "}";
}

void Registrar::report(const std::string& problem) {
  if (problem == last_problem_) return;
  if (!problem.empty()) spdlog::warn("register {}: {}", options_.key(), problem);
  last_problem_ = problem;
}

asio::awaitable<bool> Registrar::sleep(milliseconds delay) {
  if (leaving_) co_return false;
  timer_.expires_after(delay);
  co_await timer_.async_wait(net::kNoThrow);  // cancelled or expired: both end the wait
  co_return !leaving_;
}

asio::awaitable<void> Registrar::maintain() {
  const milliseconds keepalive_interval =
      std::chrono::duration_cast<milliseconds>(options_.ttl) / 3;
  const milliseconds retry_interval = std::min(milliseconds(1000), keepalive_interval);
  const std::string key = options_.key();
  while (!leaving_) {
    if (lease_ == 0) {
      const auto lease = co_await etcd_.lease_grant(options_.ttl.count());
      if (leaving_) break;
      if (!lease.ok()) {
        report("cannot grant a lease: " + lease.error.message + " (retrying)");
        co_await sleep(retry_interval);
        continue;
      }
      lease_ = lease.value.id;
    }
    if (!registered_) {
      const auto put = co_await etcd_.put(key, value(false), lease_);
      if (leaving_) break;
      if (!put.ok()) {
        report("cannot put the key: " + put.error.message + " (retrying)");
        if (put.error.grpc_code == discovery::kGrpcNotFound) lease_ = 0;  // The lease is gone.
        co_await sleep(retry_interval);
        continue;
      }
      registered_ = true;
      report("");
      spdlog::info("registered {} = {} at etcd {} (lease {}, TTL {}s)", key, value(false),
                   etcd_.current_endpoint().to_string(), lease_hex(lease_), options_.ttl.count());
    }
    if (!co_await sleep(keepalive_interval)) break;
    const auto alive = co_await etcd_.lease_keepalive(lease_);
    if (leaving_) break;
    const bool gone = alive.ok() ? alive.value.ttl_seconds == 0
                                 : alive.error.grpc_code == discovery::kGrpcNotFound;
    if (!alive.ok() && !gone) {
      report("cannot keep the lease alive: " + alive.error.message + " (retrying)");
      continue;
    }
    if (gone) {
      spdlog::warn("register {}: lease {} is gone (expired or lost by etcd); registering again",
                   key, lease_hex(lease_));
      lease_ = 0;
      registered_ = false;
      continue;
    }
    report("");
  }
  maintaining_ = false;
}

asio::awaitable<void> Registrar::leave() {
  leaving_ = true;
  timer_.cancel();
  etcd_.cancel();
  // Let maintain() see leaving_ so that it does not touch the lease from here on.
  asio::steady_timer wait(io_);
  const auto deadline = std::chrono::steady_clock::now() + kStopWait;
  while (maintaining_ && std::chrono::steady_clock::now() < deadline) {
    wait.expires_after(milliseconds(5));
    co_await wait.async_wait(net::kNoThrow);  // cancelled or expired: both end the wait
  }
  if (lease_ == 0) co_return;
  const std::string key = options_.key();
  if (options_.drain_on_exit && registered_) {
    const auto put = co_await etcd_.put(key, value(true), lease_);
    if (put.ok()) {
      spdlog::info("register {}: draining for {} ms before leaving", key,
                   options_.drain_wait.count());
      // Keep the lease alive through a drain longer than its TTL.
      const milliseconds keepalive_interval =
          std::chrono::duration_cast<milliseconds>(options_.ttl) / 3;
      const auto drain_end = std::chrono::steady_clock::now() + options_.drain_wait;
      for (auto now = std::chrono::steady_clock::now(); now < drain_end;
           now = std::chrono::steady_clock::now()) {
        wait.expires_after(
            std::min<std::chrono::steady_clock::duration>(keepalive_interval, drain_end - now));
        co_await wait.async_wait(net::kNoThrow);  // cancelled or expired: both end the wait
        if (std::chrono::steady_clock::now() < drain_end) co_await etcd_.lease_keepalive(lease_);
      }
    } else {
      spdlog::warn("register {}: cannot put the drain: {}", key, put.error.message);
    }
  }
  if (const auto error = co_await etcd_.lease_revoke(lease_)) {
    spdlog::warn("register {}: cannot revoke lease {}: {} (the key leaves when it expires)", key,
                 lease_hex(lease_), error.message);
  } else {
    spdlog::info("register {}: deregistered (lease {} revoked)", key, lease_hex(lease_));
  }
  lease_ = 0;
  registered_ = false;
}

}  // namespace fulcrum::agent
