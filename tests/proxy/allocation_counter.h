#pragma once

// Counts heap allocations made through operator new (what Asio, the standard library and spdlog
// use) while a measurement is on, split by thread: the proxy's worker threads, which name
// themselves "fulcrum-w<N>", and everything else. The replacement operators live in
// allocation_counter.cc and take effect for the whole test binary.

#include <cstdint>

namespace fulcrum::proxy::testing {

struct AllocationCounts {
  uint64_t worker = 0;  ///< On threads named "fulcrum-w*".
  uint64_t other = 0;   ///< On every other thread (the test's, spdlog's, ...).
};

/// Starts counting from zero.
void start_counting_allocations();
/// Stops counting and returns what was counted since start_counting_allocations().
AllocationCounts stop_counting_allocations();

}  // namespace fulcrum::proxy::testing
