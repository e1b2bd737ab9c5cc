#pragma once

#include <cstdint>
#include <random>

namespace fulcrum::core {

/// Randomness seam. One instance per thread (not thread-safe), so picks never contend on it;
/// tests substitute a scripted sequence.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t next() = 0;

  /// Uniform in [0, bound) without modulo bias worth caring about (Lemire's multiply-shift).
  uint64_t below(uint64_t bound) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * bound) >> 64);
  }
};

/// xorshift64* (Vigna): a few instructions per draw, good enough statistically for balancing.
class FastRng final : public Rng {
 public:
  explicit FastRng(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  uint64_t next() override {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }

 private:
  uint64_t state_;
};

/// A seed from the operating system's entropy (getrandom on Linux). Generators on the request
/// path are seeded with it, so that two fulcrum processes, or two workers, never draw the same
/// sequence: a fleet of instances seeded alike would pick in lockstep. Tests and fulcrum-sim pass
/// explicit seeds instead, to be repeatable.
inline uint64_t seed_from_os() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace fulcrum::core
