// Parsing of a cluster's health settings: `health_check`, `agent`, `outlier`, and the percentage
// and agent-address notations they use.

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "config/sections.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr uint64_t kMaxRiseFall = 100;
constexpr uint64_t kMaxConsecutive = 1000;
constexpr std::size_t kMaxSendBytes = 1024;
constexpr std::array<std::string_view, 6> kHttpOnlyKeys = {
    "method", "path", "host", "expect_status", "expect_body", "reuse_connection"};

bool visible_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

StatusRange read_status_range(const Source& source, const Field& field) {
  const std::string text = read_string(source, field);
  const std::size_t dash = text.find('-');
  const auto low = parse_uint(std::string_view(text).substr(0, dash));
  const auto high =
      dash == std::string::npos ? low : parse_uint(std::string_view(text).substr(dash + 1));
  if (!low || !high || *low < 100 || *high > 599 || *low > *high) {
    source.fail(field.mark(),
                fmt::format("expected a status code or range like 200 or 200-399 (100..599), "
                            "got '{}'",
                            text));
  }
  return StatusRange{static_cast<uint16_t>(*low), static_cast<uint16_t>(*high)};
}

std::vector<StatusRange> read_expect_status(const Source& source, const Field& field) {
  if (!field.value.IsSequence()) return {read_status_range(source, field)};
  std::vector<StatusRange> ranges;
  for (const Field& item : read_list(source, field)) {
    source.recover([&] { ranges.push_back(read_status_range(source, item)); });
  }
  return ranges;
}

std::string read_method(const Source& source, const Field& field) {
  std::string method = read_string(source, field);
  const bool upper = std::all_of(method.begin(), method.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
  });
  if (!upper) {
    source.fail(
        field.mark(),
        fmt::format("expected an HTTP method in capitals like GET or HEAD, got '{}'", method));
  }
  return method;
}

std::string read_visible(const Source& source, const Field& field, std::string_view what) {
  std::string text = read_string(source, field);
  if (!visible_ascii(text)) {
    source.fail(field.mark(), fmt::format("expected {} without spaces or control characters, "
                                          "got '{}'",
                                          what, text));
  }
  return text;
}

}  // namespace

uint32_t read_percent(const Source& source, const Field& field, uint32_t max) {
  const std::string expected = fmt::format("a percentage like 10% (0% to {}%)", max);
  if (!field.value.IsScalar()) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
  }
  std::string_view text = field.value.Scalar();
  if (text.ends_with('%')) text.remove_suffix(1);
  const auto value = parse_uint(text);
  if (!value || *value > max) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
  }
  return static_cast<uint32_t>(*value);
}

HealthCheckConfig read_health_check(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kHealthCheck);
  HealthCheckConfig c;
  c.type = HealthCheckType::kTcp;
  if (const Field* f = m.find("type")) {
    source.recover([&] {
      constexpr std::string_view kTypes[] = {"tcp", "http"};
      c.type =
          read_choice(source, *f, kTypes) == 0 ? HealthCheckType::kTcp : HealthCheckType::kHttp;
    });
  }
  if (c.type == HealthCheckType::kTcp) {
    for (std::string_view key : kHttpOnlyKeys) {
      if (const Field* f = m.find(key)) {
        source.report(f->key_mark(),
                      fmt::format("'{}' applies to http checks only (add type: http)", key));
      }
    }
  }
  if (const Field* f = m.find("method")) {
    source.recover([&] { c.method = read_method(source, *f); });
  }
  if (const Field* f = m.find("path")) {
    source.recover([&] {
      c.path = read_visible(source, *f, "a path starting with '/'");
      if (!c.path.starts_with('/')) {
        source.fail(f->mark(), fmt::format("expected a path starting with '/', got '{}'", c.path));
      }
    });
  }
  if (const Field* f = m.find("host")) {
    source.recover([&] { c.host = read_visible(source, *f, "a host name"); });
  }
  if (const Field* f = m.find("expect_status")) {
    source.recover([&] { c.expect_status = read_expect_status(source, *f); });
  }
  if (const Field* f = m.find("expect_body")) {
    source.recover([&] { c.expect_body = read_string(source, *f); });
  }
  if (const Field* f = m.find("reuse_connection")) {
    source.recover([&] { c.reuse_connection = read_bool(source, *f); });
  }
  if (const Field* f = m.find("interval")) {
    source.recover([&] { c.interval = read_duration(source, *f, false); });
  }
  if (const Field* f = m.find("timeout")) {
    source.recover([&] { c.timeout = read_duration(source, *f, false); });
  }
  if (const Field* f = m.find("jitter")) {
    source.recover([&] { c.jitter_percent = read_percent(source, *f, 50); });
  }
  if (const Field* f = m.find("rise")) {
    source.recover([&] { c.rise = static_cast<uint32_t>(read_uint(source, *f, 1, kMaxRiseFall)); });
  }
  if (const Field* f = m.find("fall")) {
    source.recover([&] { c.fall = static_cast<uint32_t>(read_uint(source, *f, 1, kMaxRiseFall)); });
  }
  if (const Field* f = m.find("initial_state")) {
    source.recover([&] {
      constexpr std::string_view kStates[] = {"up", "down"};
      c.initially_up = read_choice(source, *f, kStates) == 0;
    });
  }
  // A quarter of the interval while a state is changing: a server going down is confirmed in
  // about a second with the defaults, without checking steady servers any more often.
  c.fast_interval = c.interval / 4;
  c.down_interval = c.interval;
  if (const Field* f = m.find("fast_interval")) {
    source.recover([&] { c.fast_interval = read_duration(source, *f, false); });
  }
  if (const Field* f = m.find("down_interval")) {
    source.recover([&] { c.down_interval = read_duration(source, *f, false); });
  }
  return c;
}

AgentConfig read_agent(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kAgent);
  AgentConfig c;
  c.port = kStandardAgentPort;
  if (const Field* f = m.find("port")) {
    source.recover([&] { c.port = static_cast<uint16_t>(read_uint(source, *f, 0, 65535)); });
  }
  if (const Field* f = m.find("send")) {
    source.recover([&] {
      c.send = read_string(source, *f);
      if (c.send.size() > kMaxSendBytes) {
        source.fail(f->mark(), fmt::format("'send' is {} bytes; at most {} are allowed",
                                           c.send.size(), kMaxSendBytes));
      }
    });
  }
  if (const Field* f = m.find("interval")) {
    source.recover([&] { c.interval = read_duration(source, *f, false); });
  }
  if (const Field* f = m.find("timeout")) {
    source.recover([&] { c.timeout = read_duration(source, *f, false); });
  }
  if (const Field* f = m.find("require_response")) {
    source.recover([&] { c.require_response = read_bool(source, *f); });
  }
  if (const Field* f = m.find("tls")) source.recover([&] { c.tls = read_bool(source, *f); });
  return c;
}

core::OutlierOptions read_outlier(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kOutlier);
  core::OutlierOptions o;
  o.enabled = true;
  if (const Field* f = m.find("consecutive_5xx")) {
    source.recover([&] {
      o.consecutive_5xx = static_cast<uint32_t>(read_uint(source, *f, 0, kMaxConsecutive));
    });
  }
  if (const Field* f = m.find("consecutive_gateway_errors")) {
    source.recover([&] {
      o.consecutive_gateway_errors =
          static_cast<uint32_t>(read_uint(source, *f, 0, kMaxConsecutive));
    });
  }
  if (const Field* f = m.find("base_ejection_time")) {
    source.recover([&] { o.base_ejection_time = read_duration(source, *f, false); });
  }
  const Field* max_time = m.find("max_ejection_time");
  if (max_time) {
    source.recover([&] { o.max_ejection_time = read_duration(source, *max_time, false); });
  }
  if (o.max_ejection_time < o.base_ejection_time) {
    source.report(max_time ? max_time->mark() : m.mark(),
                  "max_ejection_time must not be shorter than base_ejection_time");
  }
  if (const Field* f = m.find("max_ejection_percent")) {
    source.recover([&] { o.max_ejection_percent = read_percent(source, *f, 100); });
  }
  return o;
}

std::string read_agent_address(const Source& source, const Field& field) {
  std::string host = read_string(source, field);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  // Checked by the same rules as a server's host, with a stand-in port.
  const bool v6 = host.find(':') != std::string::npos;
  std::string reason;
  const auto parsed = parse_host_port(v6 ? "[" + host + "]:1" : host + ":1", 1, &reason);
  if (!parsed) {
    source.fail(field.mark(),
                fmt::format("invalid agent_address '{}': expected a host name or an IP address "
                            "without port",
                            host));
  }
  return parsed->host;
}

}  // namespace fulcrum::config::detail
