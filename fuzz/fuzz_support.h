#pragma once

// Helpers shared by the libFuzzer targets: invariant checks that trap (so that both libFuzzer and
// the g++ replay driver report them as crashes) and split points derived from the input itself,
// so that seed files stay plain text and every mutation also explores a new way of cutting it.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace fulcrum::fuzz {

/// Traps when an invariant does not hold; cheaper and louder than an assert (kept in -DNDEBUG).
inline void check(bool invariant) {
  if (!invariant) __builtin_trap();
}

/// `part` is empty or lies inside `whole` (a view of the parsed buffer, not a copy).
inline bool lies_within(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

/// FNV-1a: the seed of the split points.
inline uint64_t hash_bytes(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// Ends of the pieces a peer might deliver `size` bytes in: increasing, non-empty pieces, the last
/// ending at `size`. Mostly short pieces (1-16 bytes, where boundaries matter), some long ones.
inline std::vector<std::size_t> split_points(std::size_t size, uint64_t seed) {
  std::vector<std::size_t> ends;
  uint64_t state = seed | 1;
  std::size_t at = 0;
  while (at < size) {
    state ^= state << 13;  // xorshift64
    state ^= state >> 7;
    state ^= state << 17;
    const std::size_t piece = (state & 0x30) == 0 ? 1 + (state >> 8) % 512 : 1 + (state >> 8) % 16;
    at = piece >= size - at ? size : at + piece;
    ends.push_back(at);
  }
  return ends;
}

/// Every end from 1 to size: the peer that dribbles one byte at a time.
inline std::vector<std::size_t> byte_at_a_time(std::size_t size) {
  std::vector<std::size_t> ends;
  ends.reserve(size);
  for (std::size_t at = 1; at <= size; ++at) ends.push_back(at);
  return ends;
}

}  // namespace fulcrum::fuzz
