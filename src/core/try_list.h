#pragma once

#include <cstdint>
#include <optional>

#include "core/cluster.h"
#include "core/outlier.h"
#include "core/passive.h"
#include "core/tried_set.h"

namespace fulcrum::core {

/// One candidate handed out by a TryList.
struct Pick {
  const Member* member = nullptr;
  TierKind tier = TierKind::kPrimary;
  std::size_t index = 0;  ///< Within the tier.

  explicit operator bool() const { return member != nullptr; }
  ServerState& state() const { return *member->state; }
};

/// Why next() returned nothing.
enum class TryListEnd : uint8_t {
  kNotEnded,
  kNoEligibleServer,   ///< Nothing left to try: every server is ineligible or already tried.
  kAttemptsExhausted,  ///< The retry budget is spent.
};

/// The per-request try-list the retry rule draws its next server from: yields the policy's next
/// candidate, never one already tried by this request, primaries before backups, at most
/// `max_attempts` in all; failures and successes reported back feed passive tracking, response
/// statuses outlier ejection. Lives on the request's stack; holds its own reference to the snapshot
/// so membership changes cannot pull members out from under it. Not thread-safe (one request, one
/// thread).
///
/// Slow start and agent weight percentages act here, for every policy: a member the policy
/// chose is admitted with probability admission_factor() (slow_start.h); a rejected one is left
/// out for the rest of this pick only (neither an attempt nor a failure) and the policy chooses
/// again, at most kMaxRejections times, after which its choice stands. When the policy has
/// nothing else, the rejected member with the largest factor is taken: a ramp never fails a
/// request. Shares that result: policies that move shared state on each choice (round_robin's
/// cursor, weighted_round_robin) give a member with factor f the share of weight x f; stateless
/// draws and hashes give it f times its normal share, the rest going to the others in
/// proportion.
class TryList {
 public:
  TryList(SnapshotPtr snapshot, const Clock& clock, Rng& rng, uint32_t max_attempts,
          std::optional<uint64_t> key = std::nullopt);
  ~TryList();
  TryList(const TryList&) = delete;
  TryList& operator=(const TryList&) = delete;

  /// The next server to try, or an empty Pick (see end_reason()).
  Pick next();

  /// The attempt on `pick` failed: passive tracking counts it if the cluster's passive.count
  /// holds its kind (passive.h). Ends the request's trial of that server either way.
  void report_failure(const Pick& pick, FailureCause cause);
  /// The server answered; `latency` is from connect start to the first response byte.
  void report_success(const Pick& pick, Nanos latency);
  /// The server's response status once its head is parsed, or 504 when the response timed out:
  /// feeds outlier ejection (outlier.h). The caller logs a result whose outcome is not
  /// kNotTriggered.
  EjectionResult report_response(const Pick& pick, int status);

  /// Choices of the policy one pick may turn down for slow start or agent weights.
  static constexpr int kMaxRejections = 8;

  uint32_t attempts() const { return attempts_; }
  TryListEnd end_reason() const { return end_; }
  const SnapshotPtr& snapshot() const { return snapshot_; }

 private:
  Pick pick_from(TierKind kind, Nanos now, bool panic);
  bool may_be_trial(const ServerState& state) const;
  bool admitted(uint32_t factor);
  void release_trial();

  SnapshotPtr snapshot_;
  const Clock& clock_;
  Rng& rng_;
  const uint32_t max_attempts_;
  const std::optional<uint64_t> key_;
  uint32_t attempts_ = 0;
  TriedSet tried_;
  ServerState* claimed_trial_ = nullptr;
  TryListEnd end_ = TryListEnd::kNotEnded;
};

/// What a LoadGuard counts.
enum class LoadKind : uint8_t {
  kConnection,  ///< active_connections (and in_flight: a connection in use is work in flight).
  kRequest,     ///< in_flight only.
};

/// Counts work on a picked server while alive, and tells the policy so load-indexed policies stay
/// current. Move-only; keeps the snapshot alive so the policy it notifies still exists.
class LoadGuard {
 public:
  LoadGuard() = default;
  LoadGuard(SnapshotPtr snapshot, const Pick& pick, LoadKind kind);
  ~LoadGuard() { release(); }
  LoadGuard(LoadGuard&& other) noexcept { *this = std::move(other); }
  LoadGuard& operator=(LoadGuard&& other) noexcept;
  LoadGuard(const LoadGuard&) = delete;
  LoadGuard& operator=(const LoadGuard&) = delete;

  void release();

 private:
  void apply(int delta);

  SnapshotPtr snapshot_;
  Pick pick_;
  LoadKind kind_ = LoadKind::kRequest;
};

}  // namespace fulcrum::core
