#include "core/try_list.h"

#include "core/slow_start.h"

namespace fulcrum::core {

namespace {
// A trial claim can lose a race to another request; a few retries are plenty.
constexpr int kMaxClaimRaces = 4;
}  // namespace

// The policy returned a usable member; only one passively offline can be a trial, in panic or
// not (panic does not lift passive tracking). Spares the common pick a second full evaluate().
bool TryList::may_be_trial(const ServerState& state) const {
  const PassiveOptions& passive = snapshot_->passive;
  return passive.enabled() &&
         state.consecutive_failures.load(std::memory_order_relaxed) >= passive.attempts;
}

TryList::TryList(SnapshotPtr snapshot, const Clock& clock, Rng& rng, uint32_t max_attempts,
                 std::optional<uint64_t> key)
    : snapshot_(std::move(snapshot)),
      clock_(clock),
      rng_(rng),
      max_attempts_(max_attempts),
      key_(key) {}

TryList::~TryList() { release_trial(); }

Pick TryList::next() {
  if (attempts_ >= max_attempts_) {
    end_ = TryListEnd::kAttemptsExhausted;
    return {};
  }
  release_trial();  // An unreported trial ended without a verdict; let another request try.
  const Nanos now = clock_.now();
  const ClusterHealthState* health = snapshot_->health_state.get();
  const bool panic = health != nullptr && health->panic.load(std::memory_order_relaxed);
  Pick pick = pick_from(TierKind::kPrimary, now, panic);
  if (!pick) pick = pick_from(TierKind::kBackup, now, panic);
  if (!pick) {
    end_ = TryListEnd::kNoEligibleServer;
    return {};
  }
  ++attempts_;
  tried_.insert(pick.member->state.get());
  pick.state().picks_total.fetch_add(1, std::memory_order_relaxed);
  return pick;
}

Pick TryList::pick_from(TierKind kind, Nanos now, bool panic) {
  const Tier& tier = snapshot_->tier(kind);
  if (tier.members.empty()) return {};
  const PickContext context{.panic = panic,
                            .agent_loads = snapshot_->health.agent_loads,
                            .cluster = snapshot_->health_state.get()};
  Candidates candidates(tier.members, snapshot_->passive, now, &tried_, context);
  // Members added to tried_ past this point are left out of this pick only.
  const std::size_t tried_before = tried_.size();
  Pick chosen;
  Pick best_rejected;
  uint32_t best_rejected_factor = 0;
  int races = 0;
  int rejections = 0;
  for (;;) {
    const std::size_t index = tier.policy->pick(PickRequest{candidates, rng_, key_});
    if (index == kNoPick) break;
    const Member& member = tier.members[index];
    const Pick pick{&member, kind, index};
    if (may_be_trial(*member.state) && evaluate(member.spec, *member.state, snapshot_->passive, now,
                                                panic) == Eligibility::kTrial) {
      // Passive tracking after the offline timeout: exactly one request may try the server. No
      // ramp for it: the trial is a single request.
      bool expected = false;
      if (member.state->trial_in_progress.compare_exchange_strong(expected, true,
                                                                  std::memory_order_acq_rel)) {
        claimed_trial_ = member.state.get();
        chosen = pick;
        break;
      }
      // Someone else is trying it; not this request.
      if (++races > kMaxClaimRaces || !tried_.insert(member.state.get())) break;
      continue;
    }
    const uint32_t factor = admission_factor(*member.state, now, snapshot_->health);
    if (factor >= kFullAdmission || rejections == kMaxRejections || admitted(factor) ||
        !tried_.insert(member.state.get())) {
      chosen = pick;
      break;
    }
    ++rejections;
    if (factor > best_rejected_factor) {
      best_rejected = pick;
      best_rejected_factor = factor;
    }
  }
  tried_.truncate(tried_before);
  return chosen ? chosen : best_rejected;
}

bool TryList::admitted(uint32_t factor) { return rng_.below(kFullAdmission) < factor; }

void TryList::report_failure(const Pick& pick, FailureCause cause) {
  record_failure(pick.state(), snapshot_->passive, kind_of(cause), clock_.now());
  // A failure passive.count leaves out ends the trial without a verdict: the next request may
  // try the server again.
  if (claimed_trial_ == &pick.state()) release_trial();
}

void TryList::report_success(const Pick& pick, Nanos latency) {
  record_success(pick.state(), latency, clock_.now(), snapshot_->health_state.get());
  if (claimed_trial_ == &pick.state()) claimed_trial_ = nullptr;
}

EjectionResult TryList::report_response(const Pick& pick, int status) {
  return on_response(pick.state(), status, *snapshot_, clock_.now());
}

void TryList::release_trial() {
  if (claimed_trial_ != nullptr) {
    claimed_trial_->trial_in_progress.store(false, std::memory_order_release);
    claimed_trial_ = nullptr;
  }
}

LoadGuard::LoadGuard(SnapshotPtr snapshot, const Pick& pick, LoadKind kind)
    : snapshot_(std::move(snapshot)), pick_(pick), kind_(kind) {
  apply(+1);
}

LoadGuard& LoadGuard::operator=(LoadGuard&& other) noexcept {
  if (this != &other) {
    release();
    snapshot_ = std::move(other.snapshot_);
    pick_ = other.pick_;
    kind_ = other.kind_;
    other.pick_ = {};
  }
  return *this;
}

void LoadGuard::release() {
  if (pick_) {
    apply(-1);
    pick_ = {};
    snapshot_.reset();
  }
}

void LoadGuard::apply(int delta) {
  ServerState& state = pick_.state();
  state.in_flight.fetch_add(delta, std::memory_order_relaxed);
  if (kind_ == LoadKind::kConnection) {
    state.active_connections.fetch_add(delta, std::memory_order_relaxed);
  }
  snapshot_->tier(pick_.tier).policy->on_load_changed(pick_.index);
}

}  // namespace fulcrum::core
