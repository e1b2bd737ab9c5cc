#include "config/values.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string_view>

namespace fulcrum::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("10s"), seconds(10));
  EXPECT_EQ(parse_duration("2m"), minutes(2));
  EXPECT_EQ(parse_duration("1h"), hours(1));
  EXPECT_EQ(parse_duration("0"), core::Nanos(0));
  EXPECT_EQ(parse_duration("0s"), core::Nanos(0));
  EXPECT_EQ(parse_duration("0ms"), core::Nanos(0));
  EXPECT_EQ(parse_duration("007s"), seconds(7));
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* text :
       {"", "ten", "10", "1.5s", "-1s", "10 s", "s", "10S", "10sec", "1d", "10us", "+1s", "1s2"}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
  }
}

TEST(ParseDuration, RejectsValuesBeyondNanos) {
  // int64 nanoseconds hold about 2562047 hours.
  EXPECT_EQ(parse_duration("2562047h"), hours(2562047));
  EXPECT_FALSE(parse_duration("2562048h").has_value());
  EXPECT_FALSE(parse_duration("99999999999999999999999s").has_value());
}

// DurationSyntax::kFine: the simulator's notation.

using namespace std::chrono_literals;

std::optional<core::Nanos> parse_fine(std::string_view text) {
  return parse_duration(text, DurationSyntax::kFine);
}

TEST(ParseFineDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_fine("7ns"), 7ns);
  EXPECT_EQ(parse_fine("250us"), 250us);
  EXPECT_EQ(parse_fine("500ms"), 500ms);
  EXPECT_EQ(parse_fine("10s"), 10s);
  EXPECT_EQ(parse_fine("2m"), 2min);
  EXPECT_EQ(parse_fine("1h"), 1h);
}

TEST(ParseFineDuration, DecimalsAreExact) {
  EXPECT_EQ(parse_fine("1.5s"), 1500ms);
  EXPECT_EQ(parse_fine("0.1s"), 100ms);
  EXPECT_EQ(parse_fine("0.25m"), 15s);
  EXPECT_EQ(parse_fine("2.000000001s"), 2s + 1ns);
  EXPECT_EQ(parse_fine("1.000000000000000000s"), 1s);  // 18 decimals: the most accepted
  EXPECT_EQ(parse_fine("0.5us"), 500ns);
}

TEST(ParseFineDuration, ZeroWithOrWithoutUnit) {
  EXPECT_EQ(parse_fine("0"), 0ns);
  EXPECT_EQ(parse_fine("0s"), 0ns);
  EXPECT_EQ(parse_fine("0ms"), 0ns);
  EXPECT_EQ(parse_fine("0.0ns"), 0ns);
}

TEST(ParseFineDuration, RejectsMalformed) {
  for (const char* text :
       {"", "10", "1.5", "-1s", "+1s", "s", " 10s", "10s ", "10x", "10 s", "10sec", "10S", "1.s",
        ".5s", "1..5s", "1e3s", "1.5.s", "1.0000000000000000000s"}) {
    EXPECT_FALSE(parse_fine(text).has_value()) << text;
  }
}

TEST(ParseFineDuration, RejectsFinerThanANanosecond) {
  EXPECT_FALSE(parse_fine("1.5ns").has_value());
  EXPECT_FALSE(parse_fine("0.0001us").has_value());
  EXPECT_EQ(parse_fine("0.001us"), 1ns);
}

TEST(ParseFineDuration, RejectsValuesBeyondNanos) {
  // int64 nanoseconds end at 9223372036.854775807s.
  EXPECT_EQ(parse_fine("9223372036.854775807s"), core::Nanos::max());
  EXPECT_FALSE(parse_fine("9223372036.854775808s").has_value());
  EXPECT_FALSE(parse_fine("9223372037s").has_value());
  EXPECT_FALSE(parse_fine("99999999999999999999s").has_value());
  EXPECT_FALSE(parse_fine("2562047.8h").has_value());
}

TEST(ParseDuration, WholeSyntaxRejectsFineNotations) {
  for (const char* text : {"7ns", "250us", "1.5s", "0.5m", "1.0s"}) {
    EXPECT_FALSE(parse_duration(text, DurationSyntax::kWhole).has_value()) << text;
    EXPECT_TRUE(parse_fine(text).has_value()) << text;
  }
}

TEST(ParseSize, AcceptsBytesAndBinarySuffixes) {
  EXPECT_EQ(parse_size("16384"), 16384u);
  EXPECT_EQ(parse_size("16k"), 16384u);
  EXPECT_EQ(parse_size("16K"), 16384u);
  EXPECT_EQ(parse_size("1m"), 1048576u);
  EXPECT_EQ(parse_size("1M"), 1048576u);
  EXPECT_EQ(parse_size("0"), 0u);
}

TEST(ParseSize, RejectsMalformed) {
  for (const char* text : {"", "k", "16kb", "1g", "1.5k", "-1", "16 k", "0x10"}) {
    EXPECT_FALSE(parse_size(text).has_value()) << text;
  }
  EXPECT_FALSE(parse_size("18014398509481984k").has_value());  // 2^54 * 2^10 overflows
}

TEST(FormatSize, UsesTheLargestExactSuffix) {
  EXPECT_EQ(format_size(16384), "16k");
  EXPECT_EQ(format_size(1 << 20), "1m");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(3 << 20), "3m");
  EXPECT_EQ(format_size(0), "0");
}

HostPort parse_ok(std::string_view text, uint16_t min_port = 1) {
  std::string error;
  auto result = parse_host_port(text, min_port, &error);
  EXPECT_TRUE(result.has_value()) << text << ": " << error;
  return result.value_or(HostPort{});
}

std::string parse_error(std::string_view text, uint16_t min_port = 1) {
  std::string error;
  auto result = parse_host_port(text, min_port, &error);
  EXPECT_FALSE(result.has_value()) << text;
  return error;
}

TEST(ParseHostPort, AcceptsIpv4NamesAndBracketedIpv6) {
  EXPECT_EQ(parse_ok("127.0.0.1:8080"), (HostPort{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_ok("backend.internal:9003"), (HostPort{"backend.internal", 9003}));
  EXPECT_EQ(parse_ok("[::1]:8080"), (HostPort{"::1", 8080}));
  EXPECT_EQ(parse_ok("[fe80::1%eth0]:80"), (HostPort{"fe80::1%eth0", 80}));
  EXPECT_EQ(parse_ok("h:65535"), (HostPort{"h", 65535}));
}

TEST(ParseHostPort, CanonicalFormLowerCasesAndBracketsIpv6) {
  EXPECT_EQ(parse_ok("Backend.Internal:0080").to_string(), "backend.internal:80");
  EXPECT_EQ(parse_ok("[::FFFF:1]:9000").to_string(), "[::ffff:1]:9000");
  // Interface names are case-sensitive, so the zone keeps its case.
  EXPECT_EQ(parse_ok("[FE80::1%Eth0]:80").to_string(), "[fe80::1%Eth0]:80");
}

TEST(ParseHostPort, PortZeroOnlyWhereAllowed) {
  EXPECT_EQ(parse_ok("127.0.0.1:0", 0).port, 0);
  EXPECT_EQ(parse_error("127.0.0.1:0", 1), "port out of range (1..65535)");
}

TEST(ParseHostPort, NamesWhatIsWrong) {
  EXPECT_EQ(parse_error("127.0.0.1"), "missing port");
  EXPECT_EQ(parse_error("127.0.0.1:"), "missing port");
  EXPECT_EQ(parse_error("[::1]"), "missing port");
  EXPECT_EQ(parse_error(":8080"), "missing host");
  EXPECT_EQ(parse_error("[]:8080"), "missing host");
  EXPECT_EQ(parse_error("h:65536"), "port out of range (1..65535)");
  EXPECT_EQ(parse_error("h:http"), "port is not a number");
  EXPECT_EQ(parse_error("h:-1"), "port is not a number");
  EXPECT_EQ(parse_error("::1:8080"), "an IPv6 address needs brackets, like [::1]:8080");
  EXPECT_EQ(parse_error("[::1:8080"), "missing ']' after IPv6 address");
  EXPECT_EQ(parse_error("[::1]8080"), "expected ':' and a port after ']'");
  EXPECT_EQ(parse_error("[127.0.0.1]:80"), "invalid IPv6 address");
  EXPECT_EQ(parse_error("[::g]:80"), "invalid IPv6 address");
  EXPECT_EQ(parse_error("a b:80"), "invalid host name");
  EXPECT_EQ(parse_error("http://h:80"), "expected host:port, not a URL");
}

TEST(IsValidName, AllowsLabelSafeCharactersOnly) {
  EXPECT_TRUE(is_valid_name("web-1.v2_a"));
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name("a b"));
  EXPECT_FALSE(is_valid_name("a/b"));
  EXPECT_FALSE(is_valid_name("é"));
}

}  // namespace
}  // namespace fulcrum::config
