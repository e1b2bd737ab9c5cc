#pragma once

#include <cstdint>
#include <string_view>

namespace fulcrum::core {

/// Final avalanche step (the splitmix64 finalizer constants): spreads every input bit over the
/// whole word, so nearby keys land far apart on a ring or in a Maglev table.
constexpr uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

/// Stable 64-bit hash of bytes: FNV-1a followed by mix64. Stable across runs and machines, which
/// consistent hashing needs (two instances must build identical tables).
constexpr uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0) {
  uint64_t h = 0xCBF29CE484222325ull ^ mix64(seed);
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return mix64(h);
}

}  // namespace fulcrum::core
