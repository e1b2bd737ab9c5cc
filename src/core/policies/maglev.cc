// Maglev hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer",
// NSDI 2016, section 3.4). A lookup table of prime size M is filled by letting members take turns:
// on its turn a member claims the first free slot along its own permutation of the table,
// offset, offset + skip, offset + 2 * skip, ... (mod M), both derived from its address. A pick is
// one table read. Removing a member frees its slots, which the others' permutations mostly fill,
// so few keys of surviving members move.
//
// Weights: turns go to the member with the earliest virtual finish time, its k-th turn at
// (k + 1/2) / weight, so a member claims entries in proportion to its weight and the turns stay
// interleaved through the whole fill; with equal weights this is the paper's plain rotation.
//
// Members are ranked by address before the fill, so the table depends only on the set of
// (address, weight) pairs, never on member order. An unusable entry is re-probed at a few
// key-derived slots, then a bounded scan over the members decides, deterministically per key.
#include <algorithm>
#include <array>
#include <limits>
#include <queue>
#include <vector>

#include "core/hash.h"
#include "core/policies/hash_ranking.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

// Primes, each close to a power of two; the table is the first at least 100 entries per member,
// which keeps every member's share within about 1% of its ideal (paper, section 3.4).
constexpr std::array<uint32_t, 7> kTableSizes = {65537,   131071,  262139, 524287,
                                                 1048573, 2097143, 4194301};
constexpr std::size_t kEntriesPerMember = 100;
// Further table slots tried when the key's own entry is unusable, before scanning members.
constexpr int kReprobes = 8;
constexpr uint64_t kReprobeStride = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kOffsetSeed = 0x0FF5E7;
constexpr uint64_t kSkipSeed = 0x5C1B;
constexpr uint64_t kScanSalt = 0x5CA9F00DD15EA5E5ull;
// Turns ahead whose first table slot is prefetched while filling.
constexpr std::size_t kPrefetchAhead = 8;

// Entry is the table's element type: uint16_t whenever member indexes fit, halving the table
// (2 MiB rather than 4 at 10,000 members), so more of it stays in cache.
template <typename Entry>
class Maglev final : public Policy {
 public:
  explicit Maglev(std::span<const Member> members) {
    by_rank_ = rank_by_address(members);
    const std::size_t n = by_rank_.size();
    if (n == 0) return;

    uint32_t size = kTableSizes.back();
    for (uint32_t s : kTableSizes) {
      if (s >= kEntriesPerMember * n) {
        size = s;
        break;
      }
    }
    fill(members, size);
  }

  std::size_t pick(const PickRequest& request) override {
    if (table_.empty()) return kNoPick;
    const Candidates& c = request.candidates;
    // Re-mixed so that a weak caller hash (a raw IP, say) still spreads over the whole table.
    const uint64_t key = mix64(request.key ? *request.key : request.rng.next());
    Entry index = table_[scale(key, table_.size())];
    if (c.usable(index)) return index;
    Entry rejected = index;
    for (int attempt = 1; attempt <= kReprobes; ++attempt) {
      index = table_[scale(mix64(key + attempt * kReprobeStride), table_.size())];
      if (index == rejected) continue;
      if (c.usable(index)) return index;
      rejected = index;
    }
    return scan_members(c, key);
  }

 private:
  void fill(std::span<const Member> members, uint32_t size) {
    const std::size_t n = by_rank_.size();
    struct Turns {
      uint32_t next;  // Next slot of this member's permutation to look at.
      uint32_t skip;
      uint32_t weight;
      uint32_t claimed;
    };
    std::vector<Turns> turns(n);
    for (std::size_t rank = 0; rank < n; ++rank) {
      const Member& m = members[by_rank_[rank]];
      turns[rank] =
          Turns{static_cast<uint32_t>(hash_bytes(m.spec.address, kOffsetSeed) % size),
                static_cast<uint32_t>(hash_bytes(m.spec.address, kSkipSeed) % (size - 1)) + 1,
                m.spec.weight, 0};
    }
    table_.assign(size, kEmpty);
    uint32_t filled = 0;
    const auto claim = [&](uint32_t rank) {
      Turns& t = turns[rank];
      // Terminates: size is prime and 0 < skip < size, so the permutation reaches every slot,
      // and at least one slot is still free.
      while (table_[t.next] != kEmpty) t.next = advance(t.next, t.skip, size);
      table_[t.next] = static_cast<Entry>(by_rank_[rank]);
      t.next = advance(t.next, t.skip, size);
      ++t.claimed;
      ++filled;
    };
    for_each_turn(
        turns,
        [&](uint32_t rank) {
          claim(rank);
          return filled < size;
        },
        [&](uint32_t rank) { __builtin_prefetch(&table_[turns[rank].next]); });
  }

  // Calls take(rank) for every turn in order of virtual finish time (2 * k + 1) / (2 * weight)
  // for a member's k-th turn, ties to the lower rank, while it returns true. Members of equal
  // weight take their k-th turns at the same time, in rank order, so the order is a merge of
  // one sequence per distinct weight: a heap over weights (a few, usually), not over members,
  // which made a heap operation per table entry most of a rebuild's time at 10,000 members.
  template <typename Turns, typename Take, typename Prefetch>
  static void for_each_turn(const std::vector<Turns>& turns, Take take, Prefetch prefetch) {
    struct Group {
      uint32_t weight;
      uint64_t turn = 0;            // k of the group's next turns
      std::vector<uint32_t> ranks;  // ascending
    };
    std::vector<Group> groups;
    {
      std::vector<uint32_t> order(turns.size());
      for (std::size_t rank = 0; rank < turns.size(); ++rank)
        order[rank] = static_cast<uint32_t>(rank);
      // Weight 0 members take no turn while any member has weight; if none has, all are equal.
      bool any_weight = false;
      for (const auto& t : turns) any_weight = any_weight || t.weight > 0;
      std::stable_sort(order.begin(), order.end(),
                       [&](uint32_t a, uint32_t b) { return turns[a].weight < turns[b].weight; });
      for (uint32_t rank : order) {
        const uint32_t weight = turns[rank].weight;
        if (weight == 0 && any_weight) continue;
        if (groups.empty() || groups.back().weight != weight)
          groups.push_back(Group{weight, 0, {}});
        groups.back().ranks.push_back(rank);
      }
    }
    if (groups.empty()) return;
    // (2 * turn + 1) / (2 * weight), compared by cross-multiplication; weight 0 only when all
    // are 0, where every time compares equal.
    const auto later = [&](uint32_t a, uint32_t b) {
      const uint64_t fa = (2 * groups[a].turn + 1) * groups[b].weight;
      const uint64_t fb = (2 * groups[b].turn + 1) * groups[a].weight;
      return fa != fb ? fa > fb : a > b;
    };
    std::vector<uint32_t> indexes(groups.size());
    for (std::size_t g = 0; g < groups.size(); ++g) indexes[g] = static_cast<uint32_t>(g);
    std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(later)> queue(later,
                                                                                std::move(indexes));
    std::vector<uint32_t> tied;
    std::vector<uint32_t> merged;
    for (;;) {
      tied.clear();
      tied.push_back(queue.top());
      queue.pop();
      while (!queue.empty()) {
        const Group& a = groups[tied.front()];
        const Group& b = groups[queue.top()];
        if ((2 * a.turn + 1) * b.weight != (2 * b.turn + 1) * a.weight) break;
        tied.push_back(queue.top());
        queue.pop();
      }
      const std::vector<uint32_t>* ranks = &groups[tied.front()].ranks;
      if (tied.size() > 1) {
        merged.clear();
        for (uint32_t g : tied) {  // Each group's ranks are ascending: merge, not sort.
          const auto middle = static_cast<std::ptrdiff_t>(merged.size());
          merged.insert(merged.end(), groups[g].ranks.begin(), groups[g].ranks.end());
          std::inplace_merge(merged.begin(), merged.begin() + middle, merged.end());
        }
        ranks = &merged;
      }
      for (std::size_t i = 0; i < ranks->size(); ++i) {
        // The slot a turn a few ahead will look at first: its cache line is on its way by then.
        if (i + kPrefetchAhead < ranks->size()) prefetch((*ranks)[i + kPrefetchAhead]);
        if (!take((*ranks)[i])) return;
      }
      for (uint32_t g : tied) {
        ++groups[g].turn;
        queue.push(g);
      }
    }
  }

  static uint32_t advance(uint32_t slot, uint32_t skip, uint32_t size) {
    const uint64_t next = uint64_t{slot} + skip;
    return static_cast<uint32_t>(next >= size ? next - size : next);
  }

  // Unusable entries everywhere the key looked: visit every member once, in address order from a
  // key-derived start, so the outcome is still deterministic and spread over members.
  std::size_t scan_members(const Candidates& c, uint64_t key) const {
    const std::size_t n = by_rank_.size();
    std::size_t rank = scale(mix64(key ^ kScanSalt), n);
    for (std::size_t k = 0; k < n; ++k) {
      if (c.usable(by_rank_[rank])) return by_rank_[rank];
      if (++rank == n) rank = 0;
    }
    return kNoPick;
  }

  static constexpr Entry kEmpty = std::numeric_limits<Entry>::max();

  std::vector<Entry> table_;       // Slot to member index.
  std::vector<uint32_t> by_rank_;  // Rank (address order) to member index.
};

}  // namespace

std::unique_ptr<Policy> make_maglev(std::span<const Member> members) {
  // kEmpty must not be a member index.
  if (members.size() < std::numeric_limits<uint16_t>::max()) {
    return std::make_unique<Maglev<uint16_t>>(members);
  }
  return std::make_unique<Maglev<uint32_t>>(members);
}

}  // namespace fulcrum::core::policies
