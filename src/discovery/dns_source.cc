#include "discovery/dns_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "discovery/dns_answer.h"

namespace fulcrum::discovery {
namespace {

constexpr int kTypeSrv = 33;

// NXDOMAIN and "no records of that type" are answers (nothing is there); anything else means the
// question could not be answered.
bool is_empty_answer(int status) { return status == ARES_ENOTFOUND || status == ARES_ENODATA; }
bool is_shutdown(int status) { return status == ARES_EDESTRUCTION || status == ARES_ECANCELLED; }

}  // namespace

DnsSource::DnsSource(const config::DiscoveryConfig& config) : config_(config) {}

DnsSource::~DnsSource() { stop(); }

std::string DnsSource::describe() const {
  return config_.port ? "dns " + config_.name + ":" + std::to_string(config_.port)
                      : "dns " + config_.name;
}

void DnsSource::start(asio::io_context& io, MembershipCallback on_change) {
  on_change_ = std::move(on_change);
  timer_.emplace(io);
  channel_ = AresChannel::create(io, config_.resolvers);
  lookup();
}

void DnsSource::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) timer_->cancel();
  channel_.reset();  // Pending lookups end with ARES_EDESTRUCTION, which is ignored.
}

void DnsSource::lookup() {
  if (stopped_) return;
  ++round_;
  if (config_.port == 0) {
    lookup_srv();
  } else {
    lookup_addresses();
  }
}

void DnsSource::lookup_addresses() {
  channel_->resolve(config_.name, [this, round = round_](int status, AresChannel::Addresses found) {
    if (is_shutdown(status) || stopped_ || round != round_) return;
    if (status == ARES_SUCCESS || is_empty_answer(status)) {
      succeed(map_addresses(found.addresses, config_.port), found.ttl_seconds);
    } else {
      fail(ares_strerror(status));
    }
  });
}

void DnsSource::lookup_srv() {
  channel_->query(
      config_.name, kTypeSrv,
      [this, round = round_](int status, const unsigned char* answer, int length) {
        if (is_shutdown(status) || stopped_ || round != round_) return;
        if (is_empty_answer(status)) return succeed({}, 0);
        if (status != ARES_SUCCESS) return fail(ares_strerror(status));
        std::string error;
        auto records = parse_srv_answer({answer, static_cast<std::size_t>(length)}, &error);
        if (!records) return fail("malformed SRV answer: " + error);
        on_srv(std::move(*records));
      });
}

void DnsSource::on_srv(std::vector<SrvRecord> records) {
  records_ = std::move(records);
  resolved_.clear();
  round_failed_ = false;
  std::set<std::string> targets;
  for (const auto& record : records_) targets.insert(record.target);
  if (targets.empty()) return succeed({}, 0);
  targets_pending_ = targets.size();
  for (const std::string& target : targets) {
    channel_->resolve(target, [this, round = round_, target](int status,
                                                             AresChannel::Addresses found) {
      if (is_shutdown(status) || stopped_ || round != round_) return;
      if (status == ARES_SUCCESS) {
        resolved_[target] = ResolvedName{std::move(found.addresses), found.ttl_seconds};
      } else if (is_empty_answer(status)) {
        spdlog::warn("discovery {}: SRV target {} has no address; left out", describe(), target);
      } else {
        round_failed_ = true;
        round_error_ = target + ": " + ares_strerror(status);
      }
      if (--targets_pending_ > 0) return;
      if (round_failed_) return fail(round_error_);
      uint32_t ttl = records_.front().ttl_seconds;
      for (const auto& record : records_) ttl = std::min(ttl, record.ttl_seconds);
      for (const auto& [name, found] : resolved_) ttl = std::min(ttl, found.ttl_seconds);
      succeed(map_srv(records_, resolved_), ttl);
    });
  }
}

void DnsSource::succeed(Membership members, uint32_t ttl_seconds) {
  if (!last_ || *last_ != members) {
    last_ = members;
    on_change_(std::move(members));
  }
  schedule(refresh_after(ttl_seconds, config_.min_ttl, config_.max_ttl));
}

void DnsSource::fail(const std::string& why) {
  spdlog::warn("discovery {}: lookup failed ({}); keeping the last good answer ({} servers)",
               describe(), why, last_ ? last_->size() : 0);
  schedule(config_.min_ttl);
}

void DnsSource::schedule(std::chrono::nanoseconds after) {
  if (stopped_) return;
  timer_->expires_after(after);
  timer_->async_wait([this](std::error_code ec) {
    if (!ec) lookup();
  });
}

}  // namespace fulcrum::discovery
