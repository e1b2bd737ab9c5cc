#include "agent/host_load.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace fulcrum::agent {

int load_percent(double load_average, unsigned cores) {
  if (!std::isfinite(load_average) || load_average <= 0) return 0;
  const double percent = 100.0 * load_average / std::max(1U, cores);
  return percent >= 100.0 ? 100 : static_cast<int>(std::lround(percent));
}

std::optional<int> read_load_average_percent() {
  double averages[1];
  if (getloadavg(averages, 1) != 1) return std::nullopt;
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return load_percent(averages[0], cores > 0 ? static_cast<unsigned>(cores) : 1U);
}

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
  // The aggregate line comes first: "cpu  user nice system idle iowait irq softirq steal ...".
  constexpr std::string_view kPrefix = "cpu ";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::size_t end = text.find('\n');
  std::istringstream fields{std::string(text.substr(kPrefix.size(), end - kPrefix.size()))};
  std::array<uint64_t, 8> values{};  // user nice system idle iowait irq softirq steal
  std::size_t count = 0;
  std::string field;
  while (count < values.size() && fields >> field) {
    if (field.empty() || field.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    values[count++] = std::strtoull(field.c_str(), nullptr, 10);
  }
  if (count < 4) return std::nullopt;  // Kernels before 2.6 had only the first four.
  CpuTimes times;
  for (std::size_t i = 0; i < count; ++i) times.total += values[i];
  times.busy = times.total - values[3] - values[4];
  return times;
}

std::optional<CpuTimes> read_proc_stat() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return parse_proc_stat(line);
}

std::optional<int> busy_percent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
  const double total = static_cast<double>(after.total - before.total);
  const double busy = static_cast<double>(after.busy - before.busy);
  return std::clamp(static_cast<int>(std::lround(100.0 * busy / total)), 0, 100);
}

}  // namespace fulcrum::agent
