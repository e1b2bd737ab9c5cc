#include "core/try_list.h"

namespace fulcrum::core {

namespace {
// A trial claim can lose a race to another request; a few retries are plenty.
constexpr int kMaxClaimRaces = 4;
}  // namespace

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
  Pick pick = pick_from(TierKind::kPrimary, now);
  if (!pick) pick = pick_from(TierKind::kBackup, now);
  if (!pick) {
    end_ = TryListEnd::kNoEligibleServer;
    return {};
  }
  ++attempts_;
  tried_.insert(pick.member->state.get());
  pick.state().picks_total.fetch_add(1, std::memory_order_relaxed);
  return pick;
}

Pick TryList::pick_from(TierKind kind, Nanos now) {
  const Tier& tier = snapshot_->tier(kind);
  if (tier.members.empty()) return {};
  Candidates candidates(tier.members, snapshot_->passive, now, &tried_);
  for (int race = 0; race <= kMaxClaimRaces; ++race) {
    const std::size_t index = tier.policy->pick(PickRequest{candidates, rng_, key_});
    if (index == kNoPick) return {};
    const Member& member = tier.members[index];
    if (evaluate(member.spec, *member.state, snapshot_->passive, now) != Eligibility::kTrial) {
      return Pick{&member, kind, index};
    }
    // Seed 000 after the offline timeout: exactly one request may try the server.
    bool expected = false;
    if (member.state->trial_in_progress.compare_exchange_strong(expected, true,
                                                                std::memory_order_acq_rel)) {
      claimed_trial_ = member.state.get();
      return Pick{&member, kind, index};
    }
    tried_.insert(member.state.get());  // Someone else is trying it; not this request.
  }
  return {};
}

void TryList::report_failure(const Pick& pick, FailureCause /*cause*/) {
  record_connect_failure(pick.state(), snapshot_->passive, clock_.now());
  if (claimed_trial_ == &pick.state()) claimed_trial_ = nullptr;
}

void TryList::report_success(const Pick& pick, Nanos latency) {
  record_success(pick.state(), latency);
  if (claimed_trial_ == &pick.state()) claimed_trial_ = nullptr;
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
