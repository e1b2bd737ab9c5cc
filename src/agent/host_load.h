#pragma once

// The host's load as a number 0..100: the 1-minute load average over the online cores, or the
// share of CPU time spent busy, from /proc/stat. Parsing and arithmetic are separate from the
// reading so that tests can feed them known values.

#include <cstdint>
#include <optional>
#include <string_view>

namespace fulcrum::agent {

/// 100 × load average ÷ cores, rounded and clamped to 0..100 (a load average of one runnable
/// task per core is fully loaded). `cores` 0 is taken as 1.
int load_percent(double load_average, unsigned cores);

/// load_percent of the host's 1-minute load average; empty if it cannot be read.
std::optional<int> read_load_average_percent();

/// Cumulative CPU time of all cores, in clock ticks.
struct CpuTimes {
  uint64_t busy = 0;   ///< Everything but idle and iowait.
  uint64_t total = 0;  ///< user nice system idle iowait irq softirq steal (guest is in user).
};

/// The aggregate "cpu " line of /proc/stat; empty if it is missing or malformed.
std::optional<CpuTimes> parse_proc_stat(std::string_view text);
std::optional<CpuTimes> read_proc_stat();

/// Busy share between two samples, 0..100; empty if no time passed between them.
std::optional<int> busy_percent(const CpuTimes& before, const CpuTimes& after);

}  // namespace fulcrum::agent
