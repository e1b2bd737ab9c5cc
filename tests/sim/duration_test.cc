#include "sim/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace fulcrum::sim {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("7ns"), 7ns);
  EXPECT_EQ(parse_duration("250us"), 250us);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("10s"), 10s);
  EXPECT_EQ(parse_duration("2m"), 2min);
  EXPECT_EQ(parse_duration("1h"), 1h);
}

TEST(ParseDuration, DecimalsAreExact) {
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("0.1s"), 100ms);
  EXPECT_EQ(parse_duration("0.25m"), 15s);
  EXPECT_EQ(parse_duration("2.000000001s"), 2s + 1ns);
}

TEST(ParseDuration, ZeroWithOrWithoutUnit) {
  EXPECT_EQ(parse_duration("0"), 0ns);
  EXPECT_EQ(parse_duration("0s"), 0ns);
  EXPECT_EQ(parse_duration("0ms"), 0ns);
}

void expect_error(const std::string& text, const std::string& fragment) {
  try {
    parse_duration(text);
    ADD_FAILURE() << "'" << text << "' parsed";
  } catch (const DurationError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "'" << text << "': " << e.what();
  }
}

TEST(ParseDuration, RejectsWithReason) {
  expect_error("", "empty");
  expect_error("10", "missing unit");
  expect_error("1.5", "missing unit");
  expect_error("-1s", "negative");
  expect_error("s", "must start with a number");
  expect_error(" 10s", "must start with a number");
  expect_error("10x", "unknown unit 'x'");
  expect_error("10 s", "unknown unit ' s'");
  expect_error("10sec", "unknown unit 'sec'");
  expect_error("1.s", "digits after the decimal point");
  expect_error("1e3s", "unknown unit 'e3s'");
  expect_error("1.5ns", "finer than one nanosecond");
  expect_error("99999999999999999999s", "too large");
  expect_error("9223372037s", "too large");
}

TEST(ParseDuration, MessageQuotesInputAndGivesExamples) {
  expect_error("10", "invalid duration '10'");
  expect_error("10", "500ms, 10s, 2m");
}

TEST(FormatSeconds, UsesAsManyDecimalsAsNeeded) {
  EXPECT_EQ(format_seconds(12s), "12.000s");
  EXPECT_EQ(format_seconds(3250ms), "3.250s");
  EXPECT_EQ(format_seconds(1s + 500us), "1.000500s");
  EXPECT_EQ(format_seconds(1ns), "0.000000001s");
  EXPECT_EQ(format_seconds(-1500ms), "-1.500s");
}

}  // namespace
}  // namespace fulcrum::sim
