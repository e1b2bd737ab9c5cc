// Ring hash: consistent hashing (Karger et al., "Consistent Hashing and Random Trees", STOC 1997)
// as Ketama and Envoy's ring_hash use it. Every member owns points on a 64-bit ring, as many as
// its weight earns; a key belongs to the first point at or after it, wrapping at the top. Removing
// a member moves only the keys on its own arcs, each to the next point along the ring, which is
// also where a key goes while its member is unusable: the walk skips that member's points.
//
// Layout for a fast pick. The ring is stored as 32-bit entries in ring order, split into 2^B
// buckets by the top B bits of the position; a bucket table gives each bucket's first entry. An
// entry holds the next bits of its point's position and, in its low bits, the owner's member
// index. A pick reads one bucket-table word and searches one window of entries, about a cache
// line or two. Positions are compared at B + 32 - index bits of precision (at least 34 bits at
// 10,000 members). Points at equal positions are ordered by the owners' ranks (members sorted by
// address), so the ring depends only on the set of (address, weight) pairs, never on member
// order.
//
// Point counts: kPointsPerMember for a member of average weight, scaled down so that the ring
// never exceeds kMaxRingPoints. A member's points are the first p of a stream seeded by its
// address, so a count changing by one adds or drops one point rather than reshuffling the ring.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/hash.h"
#include "core/policies/hash_ranking.h"
#include "core/policy.h"

namespace fulcrum::core::policies {

namespace {

constexpr double kPointsPerMember = 4096;
// 2 MiB of entries. The cap trades balance for pick cost once it binds (above 128 members): at
// 10,000 members, about 52 points each spread members' shares by about 14% (coefficient of
// variation; 10% at 2^20), while the smaller ring measured 33 to 47 ns a pick rather than 40 to
// 80 ns with other cores competing for the cache. Large clusters that need even shares want
// maglev.
constexpr std::size_t kMaxRingPoints = std::size_t{1} << 19;
// 4 to 8 points per bucket and at most 2^16 buckets (256 KiB). A lookup counts over a window of
// kWindow entries (one or two cache lines), enough for all but about 1 bucket in 100 (Poisson
// tail), which take a linear scan.
constexpr int kPointsPerBucketLog2 = 3;
constexpr int kMaxBucketBits = 16;
constexpr std::size_t kWindow = 16;
// Points visited along the ring before falling back to a scan of the members.
constexpr std::size_t kMaxWalk = 64;
// Rejected members remembered during a walk, so consecutive points of one unusable member are
// not re-evaluated.
constexpr std::size_t kRemembered = 8;
// Golden-ratio increment: consecutive stream values of one member are mixed far apart.
constexpr uint64_t kPointStride = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kScanSalt = 0x5CA9F00DD15EA5E5ull;

// GCC/Clang vector extensions: four lanes, compiled to SSE2 on x86-64 (NEON on ARM).
using U32x4 = uint32_t __attribute__((vector_size(16)));
using I32x4 = int32_t __attribute__((vector_size(16)));

class RingHash final : public Policy {
 public:
  explicit RingHash(std::span<const Member> members) {
    by_rank_ = rank_by_address(members);
    const std::size_t n = by_rank_.size();
    if (n == 0) return;

    uint64_t total_weight = 0;
    for (uint32_t i : by_rank_) total_weight += members[i].spec.weight;
    const double target =
        std::min(kPointsPerMember * static_cast<double>(n), static_cast<double>(kMaxRingPoints));
    std::vector<uint64_t> counts(n);
    for (std::size_t rank = 0; rank < n; ++rank) {
      const double share = static_cast<double>(members[by_rank_[rank]].spec.weight) /
                           static_cast<double>(total_weight);
      counts[rank] = std::max<uint64_t>(1, std::llround(target * share));
      ring_size_ += counts[rank];
    }

    const int bucket_bits = std::clamp(
        static_cast<int>(std::bit_width(ring_size_)) - kPointsPerBucketLog2, 1, kMaxBucketBits);
    owner_bits_ = static_cast<int>(std::bit_width(members.size() - 1));
    owner_mask_ = static_cast<uint32_t>((uint64_t{1} << owner_bits_) - 1);
    position_shift_ = 64 - bucket_bits - (32 - owner_bits_);
    bucket_shift_ = 64 - bucket_bits;

    // Sorted as (bucket | in-bucket bits | rank), bucket_bits + 32 wide; stored with the rank
    // replaced by the member index.
    std::vector<uint64_t> points;
    points.reserve(ring_size_);
    for (std::size_t rank = 0; rank < n; ++rank) {
      const uint64_t seed = hash_bytes(members[by_rank_[rank]].spec.address);
      for (uint64_t j = 1; j <= counts[rank]; ++j) {
        points.push_back(((mix64(seed + j * kPointStride) >> position_shift_) << owner_bits_) |
                         rank);
      }
    }
    const std::size_t buckets = std::size_t{1} << bucket_bits;
    sort_by_bucket(points, buckets);

    bucket_start_.resize(buckets + 1);
    entries_.resize(ring_size_ + kWindow, 0);  // Padding: windows never leave the array.
    std::size_t pos = 0;
    for (std::size_t b = 0; b < buckets; ++b) {
      bucket_start_[b] = static_cast<uint32_t>(pos);
      for (; pos < ring_size_ && (points[pos] >> 32) == b; ++pos) {
        entries_[pos] = (static_cast<uint32_t>(points[pos]) & ~owner_mask_) |
                        by_rank_[points[pos] & owner_mask_];
      }
    }
    bucket_start_[buckets] = static_cast<uint32_t>(ring_size_);
  }

  std::size_t pick(const PickRequest& request) override {
    if (ring_size_ == 0) return kNoPick;
    const Candidates& c = request.candidates;
    // Re-mixed so that a weak caller hash (a raw IP, say) still spreads over the whole ring.
    const uint64_t key = mix64(request.key ? *request.key : request.rng.next());
    const std::size_t pos = first_at_or_after(key);
    const std::size_t index = member_at(pos);
    if (c.usable(index)) return index;
    return walk_from(c, key, pos);
  }

 private:
  // Sorts points (bucket in the bits above 32) as std::sort would, in linear time: a counting
  // sort by bucket, then each bucket's few points (4 to 8 on average). A whole std::sort of the
  // 2^19 points was most of a rebuild's time at 10,000 members (discovery publishes one per
  // membership change).
  static void sort_by_bucket(std::vector<uint64_t>& points, std::size_t buckets) {
    std::vector<uint32_t> start(buckets + 1, 0);
    for (uint64_t p : points) ++start[(p >> 32) + 1];
    for (std::size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<uint64_t> sorted(points.size());
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (uint64_t p : points) sorted[next[p >> 32]++] = p;
    for (std::size_t b = 0; b < buckets; ++b) {
      std::sort(sorted.begin() + start[b], sorted.begin() + start[b + 1]);
    }
    points.swap(sorted);
  }

  uint32_t member_at(std::size_t pos) const { return entries_[pos] & owner_mask_; }

  std::size_t first_at_or_after(uint64_t key) const {
    const std::size_t bucket = key >> bucket_shift_;
    const std::size_t first = bucket_start_[bucket];
    const std::size_t len = bucket_start_[bucket + 1] - first;
    // The key's in-bucket bits over a zero owner: an entry is before the key iff it compares
    // below.
    const auto probe = static_cast<uint32_t>((key >> position_shift_) << owner_bits_);
    // The answer is `first` plus the number of the bucket's entries before the key. Counted over
    // a fixed window with vector compares, entries past the bucket masked off: no branch to
    // mispredict, and the window's loads are independent, so its cache lines arrive together.
    const uint32_t* base = entries_.data() + first;
    std::size_t below = 0;
    if (len < kWindow) {
      const U32x4 probes = {probe, probe, probe, probe};
      const auto limit = static_cast<int32_t>(len);
      const I32x4 limits = {limit, limit, limit, limit};
      I32x4 counts = {0, 0, 0, 0};
      I32x4 lanes = {0, 1, 2, 3};
#pragma GCC unroll 4
      for (std::size_t q = 0; q < kWindow; q += 4) {
        U32x4 window;
        std::memcpy(&window, base + q, sizeof window);
        counts += (window < probes) & (lanes < limits);  // -1 per entry before the key.
        lanes += 4;
      }
      below = static_cast<std::size_t>(-(counts[0] + counts[1] + counts[2] + counts[3]));
    } else {
      while (below < len && base[below] < probe) ++below;
    }
    const std::size_t pos = first + below;
    return pos == ring_size_ ? 0 : pos;
  }

  // The key's member is unusable: the next usable member along the ring, which is where the key
  // would go if the unusable members' points were taken off the ring.
  std::size_t walk_from(const Candidates& c, uint64_t key, std::size_t pos) const {
    std::array<uint32_t, kRemembered> rejected;
    rejected[0] = member_at(pos);
    std::size_t rejected_count = 1;
    if (rejected_count == by_rank_.size()) return kNoPick;
    const std::size_t walk = std::min(kMaxWalk, ring_size_);
    for (std::size_t step = 1; step < walk; ++step) {
      if (++pos == ring_size_) pos = 0;
      const uint32_t index = member_at(pos);
      const auto seen = rejected.begin() + rejected_count;
      if (std::find(rejected.begin(), seen, index) != seen) continue;
      if (c.usable(index)) return index;
      if (rejected_count < kRemembered) rejected[rejected_count++] = index;
      // Every member has been seen and rejected: nothing on the ring can be picked.
      if (rejected_count == by_rank_.size()) return kNoPick;
    }
    return scan_members(c, key);
  }

  // Many unusable members near the key: visit every member once, in address order from a
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

  // Ring order: in-bucket position bits, then the owner's member index; then kWindow padding
  // entries.
  std::vector<uint32_t> entries_;
  std::size_t ring_size_ = 0;
  std::vector<uint32_t> bucket_start_;  // First entry of each bucket, plus the end.
  std::vector<uint32_t> by_rank_;       // Rank (address order) to member index.
  int owner_bits_ = 0;
  uint32_t owner_mask_ = 0;
  int position_shift_ = 63;  // Key to truncated position (bucket and in-bucket bits).
  int bucket_shift_ = 63;    // Key to bucket.
};

}  // namespace

std::unique_ptr<Policy> make_ring_hash(std::span<const Member> members) {
  return std::make_unique<RingHash>(members);
}

}  // namespace fulcrum::core::policies
