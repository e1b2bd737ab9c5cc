#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace fulcrum::core {

/// Monotonic time as nanoseconds since an arbitrary epoch. Kept as a plain count so it fits in
/// one atomic word inside ServerState.
using Nanos = std::chrono::nanoseconds;

/// Time seam: production uses SteadyClock, tests and the simulator drive a ManualClock, so every
/// time-dependent rule (offline timeouts, EWMA) is exact under test.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Thread-safe.
  virtual Nanos now() const = 0;
};

class SteadyClock final : public Clock {
 public:
  Nanos now() const override {
    return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch());
  }
};

/// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = Nanos{1'000'000'000}) : now_(start.count()) {}
  Nanos now() const override { return Nanos{now_.load(std::memory_order_relaxed)}; }
  void advance(Nanos by) { now_.fetch_add(by.count(), std::memory_order_relaxed); }
  void set(Nanos to) { now_.store(to.count(), std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace fulcrum::core
