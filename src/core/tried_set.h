#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/server.h"

namespace fulcrum::core {

/// Servers already tried by one request. Fixed capacity so a request never allocates; identity is
/// the ServerState, which is stable across snapshots and tiers.
class TriedSet {
 public:
  static constexpr std::size_t kCapacity = 32;

  bool contains(const ServerState* state) const {
    return std::find(items_.begin(), items_.begin() + size_, state) != items_.begin() + size_;
  }
  /// Returns false when full; callers bound attempts well below kCapacity.
  bool insert(const ServerState* state) {
    if (size_ == kCapacity) return false;
    items_[size_++] = state;
    return true;
  }
  std::size_t size() const { return size_; }
  /// Forgets the items inserted after the set had `size` items (exclusions for one pick only).
  void truncate(std::size_t size) { size_ = std::min(size_, size); }

 private:
  std::array<const ServerState*, kCapacity> items_{};
  std::size_t size_ = 0;
};

}  // namespace fulcrum::core
