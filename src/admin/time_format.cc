#include "admin/time_format.h"

#include <fmt/format.h>

#include <ctime>

namespace fulcrum::admin {

Moment Moment::now(const core::Clock& clock) {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return Moment{clock.now(), std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count()};
}

std::string iso8601(int64_t wall_ns) {
  constexpr int64_t kPerSecond = 1'000'000'000;
  int64_t seconds = wall_ns / kPerSecond;
  int64_t rest = wall_ns % kPerSecond;
  if (rest < 0) {
    rest += kPerSecond;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     rest / 1'000'000);
}

}  // namespace fulcrum::admin
