// Weighted least connections, as HAProxy's `leastconn` and nginx's `least_conn`, with weighted
// smooth rotation among equals. A member's load is its in_flight (one per request in HTTP, one per
// open connection in TCP mode, so the rule still means something on multiplexed HTTP/2 server
// connections) divided by its effective weight (weight x (101 - agent load), policy.h). No "+ 1":
// counting the request being placed would send every idle pick to the heaviest server. The pick is
// the usable member with the least load; among equal loads, the one with the earliest virtual
// deadline (below). Every pick is O(log n), lock-free and allocation-free.
//
// Key. One 48-bit key per member orders (load, deadline) lexicographically:
//  - load: in_flight / effective weight as a 16-bit float (6-bit exponent, 10-bit mantissa), so
//    loads within 2^-10 of each other are equal and rotate; exact for in_flight x weight <= 1024;
//  - pass: the top 32 bits of the member's 64-bit virtual deadline, compared modulo 2^32 (the
//    signed difference), so virtual time may run on forever (see "Virtual time" below).
//
// Tie-break: earliest virtual deadline (stride scheduling, Waldspurger 1995; nginx's smooth
// weighted round robin orders the same way but costs O(n) a pick). Each member has a deadline; a
// pick of member i starts at the later of its deadline and the virtual time V, moves V to that
// start and its deadline one stride, 2^52 / effective weight, past it. Equal loads go to the
// earliest deadline, then the lowest index. Weights 1, 2, 1 pick b a b c b a b c: smooth, every
// window of 4k picks gives exactly k, 2k, k. Chosen over a credit rotation (a cursor staying on a
// member for effective-weight turns) because that one is bursty (a b b c) and its turns would
// need small integer weights, while the deadline rides in the tree's key at no extra search cost.
// The deadline is 64-bit exact; the key keeps its top 32 bits, so rounding of the strides (one
// unit in 2^52 per pick) turns exact ties into ties, which the index settles the same way every
// time. A member whose load changes, or that comes back from being parked, or that a sweep visits,
// first catches its deadline up to V: time spent busy or down earns no burst of picks later.
//
// Tiers of up to kLeastConnectionsScanMax members are simply scanned. Larger tiers keep a
// lock-free tournament tree (a segment tree of minimums) so a pick costs O(log n): leaves hold
// members' keys, inner nodes the min of their children. The tree is 8-ary and each group of 8
// siblings fills one cache line, so 10,000 members take 5 levels (92 KB) where a binary tree takes
// 14: picks and updates touch far fewer lines. Each node is one 64-bit atomic, the 48-bit key
// above a 16-bit version. LoadGuard calls on_load_changed(), a pick advances its member's
// deadline; both recompute the leaf from the member's atomics and propagate up: each level reads
// the node, then its inputs (the children, or the member's atomics), then CASes node -> (min,
// version + 1), retrying on failure. The version bump makes even an unchanged key a write, so a
// writer that read its inputs before a later change can never land its stale value after that
// change's own update; propagation stops at the first node whose key did not change. (A 16-bit
// version fools a CAS only if a multiple of 65,536 writes hit one node while a writer sits between
// its read and its CAS; the damage is one stale node, rewritten by the next update that reaches it
// or repaired as below.)
//
// A pick finds the leftmost leaf whose key equals the tree's minimum. It then checks the member
// against the truth - its eligibility, this request's tried set and its real key:
//  - Ineligible (down, disabled, draining, offline, weight 0): "parked" - a per-member bit that
//    forces its leaf to +inf - and the search is redone. Parked members leave the tree, so an
//    outage does not degrade picks to scans.
//  - Tried by this request: excluded for this pick only (the min excluding a few leaves walks just
//    their paths), never parked.
//  - Leaf stale (a snapshot change leaves older LoadGuards notifying an older policy; agent loads
//    change effective weights without notice; tests poke counters directly): the leaf is fixed;
//    the member is kept if really ahead of what the tree said, else the search is redone.
// After kMaxAttempts redos the best verified member seen wins; failing that, a full scan.
//
// Staleness bounds. A leaf can only be too high where no pick verifies it, so a sweep, started at
// most every kSweepInterval (100 ms by the candidates' clock), re-derives every leaf and parked
// bit from the truth, kSweepBatch (64) members per pick, by whichever picks run then. Hence a
// server becoming eligible again, or whose load fell behind a stale tree, is back in the tree
// within 100 ms plus ceil(n / 64) picks. A pick never returns an unusable member, and while the
// tree holds a usable member it returns a least-loaded one up to notifications still in flight.
//
// Virtual time. Deadlines compare modulo 2^64 (pass modulo 2^32), which orders them right while
// all lie within 2^63 of each other: 2,048 strides of the lightest possible member. A deadline only
// falls behind V while no pick, load change or sweep touches its member, so a sweep also starts
// as soon as V has moved 2^61 since the last one began. Were a deadline still to wrap, the order
// among equals would be off until the next sweep; the search would at worst fall back to the scan.
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

constexpr int kVersionBits = 16;
constexpr uint64_t kVersionMask = (uint64_t{1} << kVersionBits) - 1;
constexpr int kPassBits = 32;
constexpr int kMantissaBits = 10;
constexpr uint64_t kInfLoad = 0xffff;  // Real loads stay below: their exponent is at most 62.
/// Key of padding leaves, parked members and weight 0; every real key ranks before it.
constexpr uint64_t kInf = kInfLoad << kPassBits;

/// One pick of a member of effective weight w moves its deadline kStrideScale / w. Effective
/// weights stay below 2^32 x 101, so strides are at least 2^12 and rounding is one unit in 2^52.
constexpr uint64_t kStrideScale = uint64_t{1} << 52;
/// A sweep starts once the virtual time has moved this far since the last one began: a quarter
/// of the window in which deadlines compare right.
constexpr uint64_t kSweepVirtualSpan = uint64_t{1} << 61;

constexpr int kMaxAttempts = 16;
constexpr std::size_t kMaxExcluded = 8;  // Tried members skipped per pick; retries are few.
constexpr std::size_t kSweepBatch = 64;
constexpr Nanos kSweepInterval = 100ms;

constexpr uint64_t key_of(uint64_t word) { return word >> kVersionBits; }
constexpr uint64_t with_key(uint64_t old_word, uint64_t key) {
  return (key << kVersionBits) | ((old_word + 1) & kVersionMask);
}

/// Key a ranks before key b: less load, or equal load and an earlier pass (modulo 2^32).
constexpr bool ranks_before(uint64_t a, uint64_t b) {
  const uint64_t load_a = a >> kPassBits;
  const uint64_t load_b = b >> kPassBits;
  if (load_a != load_b) return load_a < load_b;
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)) < 0;
}
constexpr uint64_t first_of(uint64_t a, uint64_t b) { return ranks_before(b, a) ? b : a; }
constexpr bool is_inf(uint64_t key) { return key >> kPassBits == kInfLoad; }

/// Virtual time a is later than b, modulo 2^64.
constexpr bool later(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b) > 0; }

/// in_flight / effective_weight as a 16-bit float whose bits order like its value: 0 for idle,
/// else the position of the quotient's leading one above the 10 bits that follow it.
uint64_t load_level(int32_t in_flight, uint64_t effective_weight) {
  if (in_flight <= 0) return 0;
  const uint64_t requests = static_cast<uint64_t>(std::min(in_flight, (int32_t{1} << 30) - 1));
  const uint64_t quotient = (requests << 32) / effective_weight;  // Below 2^62.
  if (quotient == 0) return 0;
  const int leading_zeros = __builtin_clzll(quotient);
  const uint64_t mantissa = ((quotient << leading_zeros) << 1) >> (64 - kMantissaBits);
  return (static_cast<uint64_t>(64 - leading_zeros) << kMantissaBits) | mantissa;
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
      : n_(members.size()), states_(n_), weights_(n_), deadlines_(n_) {
    for (std::size_t i = 0; i < n_; ++i) {
      states_[i] = members[i].state.get();
      weights_[i] = members[i].spec.weight;
      // Each member's first deadline is one stride in: the heaviest goes first.
      deadlines_[i].store(weights_[i] == 0 ? 0 : stride(i), std::memory_order_relaxed);
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
      const std::size_t i = find(excluded);
      if (i == kNoPick) break;  // Everything parked or excluded (or a race emptied the path).
      // Taking i reads these; fetching them now overlaps their misses with eligibility's.
      __builtin_prefetch(&deadlines_[i], 1);
      __builtin_prefetch(&states_[i]);
      if (!c.usable(i)) {
        if (!c.eligible(i)) {
          park(i);
        } else if (!excluded.add(i)) {  // Eligible, but this request tried it.
          break;
        }
        continue;
      }
      if (parked(i)) unpark(i);  // Came back before the sweep noticed.
      const uint64_t key = member_key(i);
      const uint64_t indexed = key_at(0, i);
      if (key == indexed) return take(i);
      refresh_leaf(i);
      if (ranks_before(key, indexed)) return take(i);  // Ahead of what the tree said: still first.
      if (ranks_before(key, best_key)) {
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
    if (index >= n_) return;
    catch_up(index);
    if (levels_ != 0) refresh_leaf(index);
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
    for (std::size_t i = 0; i < n_; ++i) node(0, i).store(member_key(i) << kVersionBits);
    for (int d = 1; d < levels_; ++d) {
      for (std::size_t k = 0; k < real_[d]; ++k) {
        node(d, k).store(group_min(d - 1, k << kFanoutBits) << kVersionBits);
      }
    }
  }

  uint64_t effective_weight(std::size_t i) const {
    return uint64_t{weights_[i]} * load_factor(*states_[i]);
  }
  uint64_t stride(std::size_t i) const { return kStrideScale / effective_weight(i); }

  /// (load, pass) from the member's atomics.
  uint64_t member_key(std::size_t i) const {
    if (weights_[i] == 0) return kInf;
    const int32_t in_flight = states_[i]->in_flight.load(std::memory_order_relaxed);
    const uint64_t level = load_level(in_flight, effective_weight(i));
    return (level << kPassBits) | (deadlines_[i].load(std::memory_order_relaxed) >> kPassBits);
  }

  /// Member i was picked: its deadline moves one stride past its start, the later of its
  /// deadline and the virtual time, and the virtual time moves up to that start.
  void advance(std::size_t i) {
    const uint64_t step = stride(i);
    const uint64_t now = vtime_.load(std::memory_order_relaxed);
    uint64_t deadline = deadlines_[i].load(std::memory_order_relaxed);
    uint64_t start;
    do {
      start = later(now, deadline) ? now : deadline;
    } while (
        !deadlines_[i].compare_exchange_weak(deadline, start + step, std::memory_order_relaxed));
    uint64_t v = now;
    while (later(start, v) && !vtime_.compare_exchange_weak(v, start, std::memory_order_relaxed)) {
    }
  }

  /// A deadline left behind the virtual time catches up with it, so time a member spent loaded
  /// or down earns it no burst of picks afterwards.
  void catch_up(std::size_t i) {
    const uint64_t now = vtime_.load(std::memory_order_relaxed);
    uint64_t deadline = deadlines_[i].load(std::memory_order_relaxed);
    while (later(now, deadline) &&
           !deadlines_[i].compare_exchange_weak(deadline, now, std::memory_order_relaxed)) {
    }
  }

  bool parked(std::size_t i) const {
    return (parked_[i / 64].load(std::memory_order_relaxed) >> (i % 64)) & 1;
  }
  /// What member i's leaf should hold.
  uint64_t truth(std::size_t i) const { return parked(i) ? kInf : member_key(i); }

  std::atomic<uint64_t>& node(int d, std::size_t k) const { return nodes_[offset_[d] + k]; }
  uint64_t key_at(int d, std::size_t k) const {
    return key_of(node(d, k).load(std::memory_order_acquire));
  }
  uint64_t group_min(int d, std::size_t first) const {
    uint64_t m = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) m = first_of(m, key_at(d, first + c));
    return m;
  }

  std::size_t take(std::size_t i) {
    advance(i);
    if (levels_ != 0) refresh_leaf(i);
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
    catch_up(i);
    parked_[i / 64].fetch_and(~(uint64_t{1} << (i % 64)), std::memory_order_relaxed);
    refresh_leaf(i);
  }

  /// The first member at or after `start` whose leaf key ranks no later than `bound`, or kNoPick.
  std::size_t first_at_or_after(std::size_t start, uint64_t bound) const {
    if (start >= n_) return kNoPick;
    // Climb: scan the rest of the current group of siblings, then the parent's later siblings.
    int d = 0;
    std::size_t k = start;
    for (;;) {
      const std::size_t end = std::min((k | (kFanout - 1)) + 1, padded_[d]);
      while (k < end && ranks_before(bound, key_at(d, k))) ++k;
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
      while (c < end && ranks_before(bound, key_at(d - 1, c))) ++c;
      if (c == end) return kNoPick;
      k = c;
    }
    return k < n_ ? k : kNoPick;
  }

  /// First key under node (d, k) ignoring excluded leaves: visits only the groups on the paths
  /// to excluded leaves.
  uint64_t min_excluding(int d, std::size_t k, const Excluded& excluded) const {
    const int shift = kFanoutBits * d;
    if (!excluded.any_in(k << shift, std::size_t{1} << shift)) return key_at(d, k);
    if (d == 0) return kInf;
    uint64_t m = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) {
      m = first_of(m, min_excluding(d - 1, (k << kFanoutBits) + c, excluded));
    }
    return m;
  }

  /// The leftmost non-excluded member holding the first key.
  std::size_t find(const Excluded& excluded) const {
    const int top = levels_ - 1;
    uint64_t bound = kInf;
    for (std::size_t c = 0; c < kFanout; ++c) {
      bound = first_of(bound, excluded.empty() ? key_at(top, c) : min_excluding(top, c, excluded));
    }
    if (is_inf(bound)) return kNoPick;
    std::size_t i = first_at_or_after(0, bound);
    while (i != kNoPick && excluded.contains(i)) i = first_at_or_after(i + 1, bound);
    return i;
  }

  /// The usable member with the first real key, the lowest index among equals.
  std::size_t scan(const Candidates& c) {
    std::size_t best = kNoPick;
    uint64_t best_key = kInf;
    for (std::size_t i = 0; i < n_; ++i) {
      const uint64_t key = member_key(i);
      if (ranks_before(key, best_key) && c.usable(i)) {
        best = i;
        best_key = key;
      }
    }
    return best == kNoPick ? kNoPick : take(best);
  }

  bool sweep_due(int64_t now) const {
    return now >= next_sweep_ns_.load(std::memory_order_relaxed) ||
           later(vtime_.load(std::memory_order_relaxed),
                 sweep_vtime_.load(std::memory_order_relaxed) + kSweepVirtualSpan);
  }

  /// Re-derives a batch of leaves and parked bits from the truth when a sweep is due. One batch
  /// per pick, claimed by CAS so each batch of a pass is done once; the thread finishing the pass
  /// schedules the next (time and virtual time first, then the position, released together).
  void maybe_sweep(const Candidates& c) {
    const int64_t now = c.now().count();
    if (!sweep_due(now)) return;
    const std::size_t batches = (n_ + kSweepBatch - 1) / kSweepBatch;
    std::size_t batch = sweep_pos_.load(std::memory_order_acquire);
    if (batch >= batches || !sweep_due(now)) return;
    if (!sweep_pos_.compare_exchange_strong(batch, batch + 1, std::memory_order_relaxed)) return;
    if (batch == 0) sweep_vtime_.store(vtime_.load(std::memory_order_relaxed));
    const std::size_t end = std::min(n_, (batch + 1) * kSweepBatch);
    for (std::size_t i = batch * kSweepBatch; i < end; ++i) {
      catch_up(i);
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
  std::vector<std::atomic<uint64_t>> deadlines_;  // Virtual deadlines, written by picks.
  int levels_ = 0;                                // 0 when scanning.
  std::array<std::size_t, kMaxLevels> real_{}, padded_{}, offset_{};
  std::unique_ptr<std::atomic<uint64_t>[]> storage_;
  std::atomic<uint64_t>* nodes_ = nullptr;           // storage_, cache-line aligned.
  std::unique_ptr<std::atomic<uint64_t>[]> parked_;  // One bit per member.
  // Read by every pick: kept off vtime_'s line.
  std::atomic<int64_t> next_sweep_ns_{0};
  std::atomic<uint64_t> sweep_vtime_{0};  // Virtual time when the current sweep began.
  std::atomic<std::size_t> sweep_pos_{0};
  alignas(64) std::atomic<uint64_t> vtime_{0};  // Written by picks.
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
