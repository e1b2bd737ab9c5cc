#pragma once

#include <asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "config/config.h"
#include "discovery/ares_channel.h"
#include "discovery/source.h"
#include "discovery/srv_mapping.h"

namespace fulcrum::discovery {

/// Membership from DNS, looked up with c-ares on the discovery thread's io_context.
/// SRV name ("_http._tcp.api.internal"): one server per target ("target:port", at the target's
/// first A/AAAA address); the lowest priority is the primary tier, higher ones the backup tier;
/// SRV weight -> weight (0 -> 1). Host name with `port`: one server per A/AAAA address.
/// The answer is kept for its TTL clamped to [min_ttl, max_ttl], then looked up again. A failed
/// lookup (timeout, SERVFAIL, no resolver) keeps the last good answer, is logged and retried
/// after min_ttl; NXDOMAIN or no records is an answer: an empty membership.
class DnsSource final : public Source {
 public:
  explicit DnsSource(const config::DiscoveryConfig& config);
  ~DnsSource() override;

  void start(asio::io_context& io, MembershipCallback on_change) override;
  void stop() override;
  std::string describe() const override;

 private:
  void lookup();
  void lookup_srv();
  void lookup_addresses();
  void on_srv(std::vector<SrvRecord> records);
  void succeed(Membership members, uint32_t ttl_seconds);
  void fail(const std::string& why);
  void schedule(std::chrono::nanoseconds after);

  const config::DiscoveryConfig config_;
  std::shared_ptr<AresChannel> channel_;
  std::optional<asio::steady_timer> timer_;
  MembershipCallback on_change_;
  std::optional<Membership> last_;  ///< Last reported membership.
  uint64_t round_ = 0;              ///< Tells a stale round's late answers apart.
  // State of the SRV round in progress: targets still being resolved and those done.
  std::size_t targets_pending_ = 0;
  bool round_failed_ = false;
  std::string round_error_;
  std::vector<SrvRecord> records_;
  std::map<std::string, ResolvedName> resolved_;
  bool stopped_ = false;
};

}  // namespace fulcrum::discovery
