#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "core/rng.h"

namespace fulcrum::testing {

/// Returns a fixed sequence of raw draws, then repeats it. Lets a test script exactly which
/// members a random policy draws: Rng::below(n) maps a raw value r to (r * n) >> 64, so
/// `draw_for(i, n)` produces member i of n.
class ScriptedRng final : public core::Rng {
 public:
  explicit ScriptedRng(std::vector<uint64_t> values) : values_(std::move(values)) {
    if (values_.empty()) throw std::invalid_argument("ScriptedRng needs values");
  }
  uint64_t next() override { return values_[position_++ % values_.size()]; }

  /// The raw draw that Rng::below(n) turns into `i`.
  static uint64_t draw_for(uint64_t i, uint64_t n) {
    const unsigned __int128 scaled = (static_cast<unsigned __int128>(i) << 64) / n;
    // Aim at the middle of i's interval so rounding cannot push it to a neighbour.
    return static_cast<uint64_t>(scaled + ((static_cast<unsigned __int128>(1) << 64) / n) / 2);
  }

 private:
  std::vector<uint64_t> values_;
  std::size_t position_ = 0;
};

}  // namespace fulcrum::testing
