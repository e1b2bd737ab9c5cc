// Parsing of durations is config::parse_duration (tests/config/values_test.cc); this is the
// simulator's own formatting.
#include "sim/duration.h"

#include <gtest/gtest.h>

#include <chrono>

namespace fulcrum::sim {
namespace {

using namespace std::chrono_literals;

TEST(FormatSeconds, UsesAsManyDecimalsAsNeeded) {
  EXPECT_EQ(format_seconds(12s), "12.000s");
  EXPECT_EQ(format_seconds(3250ms), "3.250s");
  EXPECT_EQ(format_seconds(1s + 500us), "1.000500s");
  EXPECT_EQ(format_seconds(1ns), "0.000000001s");
  EXPECT_EQ(format_seconds(-1500ms), "-1.500s");
}

}  // namespace
}  // namespace fulcrum::sim
