// Weighted least connections, as HAProxy's `leastconn` and nginx's `least_conn`: send the request
// to the usable member with the smallest (active_connections + 1) / weight. The key is fixed
// point, ((active + 1) << 16) / weight, exact for weights up to 256 (two different ratios then
// differ by at least 2^-16). Among equal keys picks rotate: the winner is the first minimal member
// at or after a shared cursor that moves past each winner, so equals are taken in turn.
//
// Tiers of up to kLeastConnectionsScanMax members are simply scanned. Larger tiers keep a
// lock-free tournament tree (a segment tree of minimums) so a pick costs O(log n): leaves hold
// members' keys, inner nodes the min of their children. The tree is 8-ary and each group of 8
// siblings fills one cache line, so 10,000 members take 5 levels (92 KB) where a binary tree takes
// 14: picks and updates touch far fewer lines. Each node is one 64-bit atomic, a 40-bit key (which
// saturates past 16M connections at weight 1) above a 24-bit version. LoadGuard calls
// on_load_changed(), which recomputes the leaf from the member's atomics and propagates up: each
// level reads the node, then its inputs (the children, or the member's atomics), then CASes
// node -> (min, version + 1), retrying on failure. The version bump makes even an unchanged key a
// write, so a writer that read its inputs before a later change can never land its stale value
// after that change's own update; propagation stops at the first node whose key did not change.
// (A 24-bit version wraps only if 16M writes hit one node while a writer sits between its read
// and its CAS; the damage is one stale node, repaired as below.)
//
// A pick finds the first leaf at or after the cursor whose key equals the tree's minimum: scan
// the rest of that leaf's sibling group, climb while nothing there qualifies, then descend to the
// leftmost qualifying leaf. It then checks the member against the truth - its eligibility, this
// request's tried set and its real key:
//  - Ineligible (down, disabled, draining, offline, weight 0): "parked" - a per-member bit that
//    forces its leaf to +inf - and the search is redone. Parked members leave the tree, so an
//    outage does not degrade picks to scans.
//  - Tried by this request: excluded for this pick only (the min excluding a few leaves walks just
//    their paths), never parked.
//  - Leaf stale (a snapshot change leaves older LoadGuards notifying an older policy; tests poke
//    counters directly): the leaf is fixed; the member is kept if really lighter than the tree
//    said, else the search is redone.
// After kMaxAttempts redos the lightest verified member seen wins; failing that, a full scan.
//
// Staleness bounds. A leaf can only be too high where no pick verifies it, so a sweep, started at
// most every kSweepInterval (100 ms by the candidates' clock), re-derives every leaf and parked
// bit from the truth, kSweepBatch (64) members per pick, by whichever picks run then. Hence a
// server becoming eligible again, or whose load fell behind a stale tree, is back in the tree
// within 100 ms plus ceil(n / 64) picks. A pick never returns an unusable member, and while the
// tree holds a usable member it returns a least-loaded one up to notifications still in flight.
// Weights are read once: a reweight publishes a new snapshot and so a new policy.
#include "core/policies/least_connections.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

using namespace std::chrono_literals;

constexpr int kFractionBits = 16;
constexpr int kVersionBits = 24;
constexpr uint64_t kVersionMask = (uint64_t{1} << kVersionBits) - 1;
/// Key of padding leaves, parked members and weight 0; real keys saturate just below it.
constexpr uint64_t kInf = (uint64_t{1} << (64 - kVersionBits)) - 1;

constexpr int kMaxAttempts = 16;
constexpr std::size_t kMaxExcluded = 8;  // Tried members skipped per pick; retries are few.
constexpr std::size_t kSweepBatch = 64;
constexpr Nanos kSweepInterval = 100ms;

constexpr uint64_t key_of(uint64_t word) { return word >> kVersionBits; }
constexpr uint64_t with_key(uint64_t old_word, uint64_t key) {
  return (key << kVersionBits) | ((old_word + 1) & kVersionMask);
}

/// Leaves a pick must not take: members this request already tried.
class Excluded {
 public:
  bool empty() const { return size_ == 0; }
  bool add(std::size_t i) {
    if (size_ == kMaxExcluded) return false;
    items_[size_++] = i;
    return true;
  }
  bool contains(std::size_t i) const {
    return std::find(items_.begin(), items_.begin() + size_, i) != items_.begin() + size_;
  }
  bool any_in(std::size_t lo, std::size_t width) const {
    for (std::size_t k = 0; k < size_; ++k) {
      if (items_[k] - lo < width) return true;
    }
    return false;
  }

 private:
  std::array<std::size_t, kMaxExcluded> items_{};
  std::size_t size_ = 0;
};

class LeastConnections final : public Policy {
 public:
  explicit LeastConnections(std::span<const Member> members)
      : n_(members.size()), states_(n_), weights_(n_) {
    for (std::size_t i = 0; i < n_; ++i) {
      states_[i] = members[i].state.get();
      weights_[i] = members[i].spec.weight;
    }
    if (n_ > kLeastConnectionsScanMax) build_tree();
  }

  std::size_t pick(const PickRequest& request) override {
    const Candidates& c = request.candidates;
    if (c.size() != n_ || n_ == 0) return kNoPick;  // Bound to another member list: a caller bug.
    if (levels_ == 0) return scan(c);
    maybe_sweep(c);
    Excluded excluded;
    std::size_t best = kNoPick;
    uint64_t best_key = kInf;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const std::size_t i = find(cursor_.load(std::memory_order_relaxed), excluded);
      if (i == kNoPick) break;  // Everything parked or excluded (or a race emptied the path).
      if (!c.usable(i)) {
        if (!c.eligible(i)) {
          park(i);
        } else if (!excluded.add(i)) {  // Eligible, but this request tried it.
          break;
        }
        continue;
      }
      if (parked(i)) unpark(i);  // Came back before the sweep noticed.
      const uint64_t key = load_key(i);
      const uint64_t indexed = key_at(0, i);
      if (key == indexed) return take(i);
      refresh_leaf(i);
      if (key < indexed) return take(i);  // Lighter than the tree said: still a minimum.
      if (key < best_key) {
        best = i;
        best_key = key;
      }
    }
    if (best != kNoPick) return take(best);
    const std::size_t i = scan(c);
    if (i != kNoPick && parked(i)) unpark(i);  // Heal the tree so the next pick need not scan.
    return i;
  }

  void on_load_changed(std::size_t index) override {
    if (levels_ != 0 && index < n_) refresh_leaf(index);
  }

  std::size_t parked_count() const {
    std::size_t count = 0;
    for (std::size_t i = 0; levels_ != 0 && i < n_; ++i) count += parked(i);
    return count;
  }

  std::string check() const {
    for (int d = 0; d < levels_; ++d) {
      for (std::size_t k = 0; k < padded_[d]; ++k) {
        uint64_t want = kInf;
        if (d == 0 && k < n_) want = truth(k);
        if (d > 0 && k < real_[d]) want = group_min(d - 1, k << kFanoutBits);
        if (key_at(d, k) != want) {
          return "level " + std::to_string(d) + " node " + std::to_string(k) + " holds " +
                 std::to_string(key_at(d, k)) + ", truth " + std::to_string(want);
        }
      }
    }
    return {};
  }

 private:
  // Levels from the leaves (0) up; each padded with +inf to whole groups of kFanout, so a group
  // of siblings is one aligned cache line. The top level is a single group; its min is the root.
  void build_tree() {
    std::size_t total = 0;
    for (std::size_t real = n_;; real = (real + kFanout - 1) / kFanout) {
      real_[levels_] = real;
      padded_[levels_] = (real + kFanout - 1) / kFanout * kFanout;
      offset_[levels_] = total;
      total += padded_[levels_];
      if (++levels_, real <= kFanout) break;
    }
    storage_ = std::make_unique<std::atomic<uint64_t>[]>(total + kFanout);
    void* base = storage_.get();
    std::size_t space = (total + kFanout) * sizeof(uint64_t);
    nodes_ = static_cast<std::atomic<uint64_t>*>(
        std::align(kFanout * sizeof(uint64_t), total * sizeof(uint64_t), base, space));
    for (std::size_t k = 0; k < total; ++k) nodes_[k].store(kInf << kVersionBits);
    parked_ = std::make_unique<std::atomic<uint64_t>[]>((n_ + 63) / 64);
    for (std::size_t i = 0; i < n_; ++i) node(0, i).store(load_key(i) << kVersionBits);
    for (int d = 1; d < levels_; ++d) {
      for (std::size_t k = 0; k < real_[d]; ++k) {
        node(d, k).store(group_min(d - 1, k << kFanoutBits) << kVersionBits);
      }
    }
  }

  uint64_t load_key(std::size_t i) const {
    if (weights_[i] == 0) return kInf;
    const int32_t active = states_[i]->active_connections.load(std::memory_order_relaxed);
    const uint64_t plus_one = static_cast<uint64_t>(std::max(active, 0)) + 1;
    return std::min((plus_one << kFractionBits) / weights_[i], kInf - 1);
  }

  bool parked(std::size_t i) const {
    return (parked_[i / 64].load(std::memory_order_relaxed) >> (i % 64)) & 1;
  }
  /// What member i's leaf should hold.
  uint64_t truth(std::size_t i) const { return parked(i) ? kInf : load_key(i); }

  std::atomic<uint64_t>& node(int d, std::size_t k) const { return nodes_[offset_[d] + k]; }
  uint64_t key_at(int d, std::size_t k) const {
    return key_of(node(d, k).load(std::memory_order_acquire));
  }
  uint64_t group_min(int d, std::size_t first) const {
    uint64_t m = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) m = std::min(m, key_at(d, first + c));
    return m;
  }

  std::size_t take(std::size_t i) {
    cursor_.store(i + 1 < n_ ? i + 1 : 0, std::memory_order_relaxed);
    return i;
  }

  // Acquire on reading a node, release on writing it: a writer that reads a node (or any later
  // write to it) sees every input its writer saw, which is what makes the CAS protocol exact.
  void refresh_leaf(std::size_t i) {
    std::atomic<uint64_t>& leaf = node(0, i);
    uint64_t old = leaf.load(std::memory_order_acquire);
    uint64_t key;
    do {
      key = truth(i);
    } while (!leaf.compare_exchange_weak(old, with_key(old, key), std::memory_order_acq_rel,
                                         std::memory_order_acquire));
    if (key_of(old) == key) return;
    for (int d = 1; d < levels_; ++d) {
      const std::size_t k = i >> (kFanoutBits * d);
      std::atomic<uint64_t>& parent = node(d, k);
      old = parent.load(std::memory_order_acquire);
      do {
        key = group_min(d - 1, k << kFanoutBits);
      } while (!parent.compare_exchange_weak(old, with_key(old, key), std::memory_order_acq_rel,
                                             std::memory_order_acquire));
      if (key_of(old) == key) return;
    }
  }

  void park(std::size_t i) {
    parked_[i / 64].fetch_or(uint64_t{1} << (i % 64), std::memory_order_relaxed);
    refresh_leaf(i);
  }
  void unpark(std::size_t i) {
    parked_[i / 64].fetch_and(~(uint64_t{1} << (i % 64)), std::memory_order_relaxed);
    refresh_leaf(i);
  }

  /// The first member at or after `start` whose leaf key is at most `bound`, or kNoPick.
  std::size_t first_at_or_after(std::size_t start, uint64_t bound) const {
    if (start >= n_) return kNoPick;
    // Climb: scan the rest of the current group of siblings, then the parent's later siblings.
    int d = 0;
    std::size_t k = start;
    for (;;) {
      const std::size_t end = std::min((k | (kFanout - 1)) + 1, padded_[d]);
      while (k < end && key_at(d, k) > bound) ++k;
      if (k < end) break;
      if (d + 1 == levels_) return kNoPick;
      k = ((k - 1) >> kFanoutBits) + 1;
      ++d;
    }
    // Descend to the leftmost qualifying leaf. A racing update can leave no child qualifying;
    // the caller then searches again.
    for (; d > 0; --d) {
      std::size_t c = k << kFanoutBits;
      const std::size_t end = c + kFanout;
      while (c < end && key_at(d - 1, c) > bound) ++c;
      if (c == end) return kNoPick;
      k = c;
    }
    return k < n_ ? k : kNoPick;
  }

  /// Least key under node (d, k) ignoring excluded leaves: visits only the groups on the paths
  /// to excluded leaves.
  uint64_t min_excluding(int d, std::size_t k, const Excluded& excluded) const {
    const int shift = kFanoutBits * d;
    if (!excluded.any_in(k << shift, std::size_t{1} << shift)) return key_at(d, k);
    if (d == 0) return kInf;
    uint64_t m = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) {
      m = std::min(m, min_excluding(d - 1, (k << kFanoutBits) + c, excluded));
    }
    return m;
  }

  /// The first minimal, non-excluded member at or after `start`, cyclically.
  std::size_t find(std::size_t start, const Excluded& excluded) const {
    const int top = levels_ - 1;
    uint64_t bound = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) {
      bound = std::min(bound, excluded.empty() ? key_at(top, c) : min_excluding(top, c, excluded));
    }
    if (bound == kInf) return kNoPick;
    for (const std::size_t from : {start, std::size_t{0}}) {
      std::size_t i = first_at_or_after(from, bound);
      while (i != kNoPick && excluded.contains(i)) i = first_at_or_after(i + 1, bound);
      if (i != kNoPick) return i;
    }
    return kNoPick;
  }

  /// The usable member with the least real key, the first at or after the cursor among equals.
  std::size_t scan(const Candidates& c) {
    const std::size_t start = cursor_.load(std::memory_order_relaxed) % n_;
    std::size_t best = kNoPick;
    uint64_t best_key = kInf;
    for (std::size_t k = 0; k < n_; ++k) {
      const std::size_t i = start + k < n_ ? start + k : start + k - n_;
      const uint64_t key = load_key(i);
      if (key < best_key && c.usable(i)) {
        best = i;
        best_key = key;
      }
    }
    return best == kNoPick ? kNoPick : take(best);
  }

  /// Re-derives a batch of leaves and parked bits from the truth when a sweep is due. One batch
  /// per pick, claimed by CAS so each batch of a pass is done once; the thread finishing the pass
  /// schedules the next (time first, then the position, released together).
  void maybe_sweep(const Candidates& c) {
    const int64_t now = c.now().count();
    if (now < next_sweep_ns_.load(std::memory_order_relaxed)) return;
    const std::size_t batches = (n_ + kSweepBatch - 1) / kSweepBatch;
    std::size_t batch = sweep_pos_.load(std::memory_order_acquire);
    if (batch >= batches || now < next_sweep_ns_.load(std::memory_order_relaxed)) return;
    if (!sweep_pos_.compare_exchange_strong(batch, batch + 1, std::memory_order_relaxed)) return;
    const std::size_t end = std::min(n_, (batch + 1) * kSweepBatch);
    for (std::size_t i = batch * kSweepBatch; i < end; ++i) {
      const bool eligible = c.eligible(i);
      if (eligible == parked(i)) {
        eligible ? unpark(i) : park(i);
      } else if (key_at(0, i) != truth(i)) {
        refresh_leaf(i);
      }
    }
    if (batch + 1 == batches) {
      next_sweep_ns_.store(now + kSweepInterval.count(), std::memory_order_relaxed);
      sweep_pos_.store(0, std::memory_order_release);
    }
  }

  static constexpr int kFanoutBits = 3;
  static constexpr std::size_t kFanout = std::size_t{1} << kFanoutBits;  // 8 keys: a cache line.
  static constexpr int kMaxLevels = 22;  // 8^21 leaves: more than any size_t count.

  const std::size_t n_;
  std::vector<ServerState*> states_;  // Owned by the member list, which outlives the policy.
  std::vector<uint32_t> weights_;
  int levels_ = 0;  // 0 when scanning.
  std::array<std::size_t, kMaxLevels> real_{}, padded_{}, offset_{};
  std::unique_ptr<std::atomic<uint64_t>[]> storage_;
  std::atomic<uint64_t>* nodes_ = nullptr;           // storage_, cache-line aligned.
  std::unique_ptr<std::atomic<uint64_t>[]> parked_;  // One bit per member.
  std::atomic<int64_t> next_sweep_ns_{0};            // Read by every pick: kept off cursor_'s line.
  alignas(64) std::atomic<std::size_t> cursor_{0};   // Written by every pick.
  std::atomic<std::size_t> sweep_pos_{0};
};

}  // namespace

std::unique_ptr<Policy> make_least_connections(std::span<const Member> members) {
  return std::make_unique<LeastConnections>(members);
}

std::string least_connections_check_for_test(const Policy& policy) {
  return dynamic_cast<const LeastConnections&>(policy).check();
}

std::size_t least_connections_parked_for_test(const Policy& policy) {
  return dynamic_cast<const LeastConnections&>(policy).parked_count();
}

}  // namespace fulcrum::core::policies
