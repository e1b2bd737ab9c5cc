#include "agent/answer.h"

#include <array>
#include <limits>
#include <vector>

namespace fulcrum::agent {
namespace {

constexpr std::string_view kExpected =
    "an answer is an integer -1..100 or HAProxy agent words (up, down, fail, stopped, ready, "
    "drain, maint, NN%, weight:N, weight:NN%, maxconn:N)";
constexpr std::size_t kMaxQuotedBytes = 40;
constexpr std::size_t kMaxReportedIssues = 4;

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_separator(char c) { return c == ' ' || c == '\t' || c == ','; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != b[i]) return false;
  }
  return true;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equals_ci(text.substr(0, prefix.size()), prefix);
}

// HAProxy ends the answer at the first CR or LF; it reads a C string, so NUL ends it too.
std::string_view first_line(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0') return text.substr(0, i);
  }
  return text;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

/// `text` as a quoted, printable, bounded string for messages: agents may send any bytes.
std::string quote(std::string_view text) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string out = "'";
  const bool cut = text.size() > kMaxQuotedBytes;
  for (const char c : text.substr(0, kMaxQuotedBytes)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && c != '\\' && c != '\'') {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  out += cut ? "...'" : "'";
  return out;
}

/// Decimal digits only, at least one; saturates instead of overflowing, so that range checks
/// against our (much smaller) bounds stay right for any length.
std::optional<uint64_t> parse_digits(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();
  uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    if (value > (kSaturated - 9) / 10) {
      value = kSaturated;
    } else {
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  return value;
}

/// Equalizer: the whole (trimmed) line is an optionally negative integer.
bool looks_like_integer(std::string_view line) {
  if (!line.empty() && line.front() == '-') line.remove_prefix(1);
  return parse_digits(line).has_value();
}

ParseResult parse_equalizer(std::string_view line) {
  const bool negative = line.front() == '-';
  const uint64_t magnitude = *parse_digits(negative ? line.substr(1) : line);
  if ((negative && magnitude > 1) || (!negative && magnitude > 100)) {
    return {.error = "load " + quote(line) + " is outside -1..100"};
  }
  AgentAnswer answer;
  answer.format = AnswerFormat::kEqualizer;
  answer.load = negative ? -static_cast<int>(magnitude) : static_cast<int>(magnitude);
  return {.answer = std::move(answer)};
}

/// Applies one HAProxy word to `answer`; returns why it was ignored, or "" when applied.
std::string apply_word(std::string_view word, AgentAnswer& answer) {
  static constexpr std::array<std::pair<std::string_view, HealthWord>, 4> kHealth = {{
      {"up", HealthWord::kUp},
      {"down", HealthWord::kDown},
      {"fail", HealthWord::kFail},
      {"stopped", HealthWord::kStopped},
  }};
  static constexpr std::array<std::pair<std::string_view, AdminWord>, 3> kAdmin = {{
      {"ready", AdminWord::kReady},
      {"drain", AdminWord::kDrain},
      {"maint", AdminWord::kMaint},
  }};
  for (const auto& [name, value] : kHealth) {
    if (equals_ci(word, name)) {
      answer.health = value;
      return "";
    }
  }
  for (const auto& [name, value] : kAdmin) {
    if (equals_ci(word, name)) {
      answer.admin = value;
      return "";
    }
  }

  // Weight: "NN%", "weight:NN%" or "weight:N". The three share a category: the last one wins.
  constexpr std::string_view kWeightPrefix = "weight:";
  const bool prefixed = starts_with_ci(word, kWeightPrefix);
  if (prefixed || is_digit(word.front())) {
    const std::string_view number = prefixed ? word.substr(kWeightPrefix.size()) : word;
    const bool percent = !number.empty() && number.back() == '%';
    const auto value = parse_digits(percent ? number.substr(0, number.size() - 1) : number);
    if (!value) {
      return "malformed weight " + quote(word) + " (expected NN%, weight:N or weight:NN%)";
    }
    if (percent) {
      if (*value > kMaxAgentWeightPercent) {
        return "weight " + quote(word) + " is above " + std::to_string(kMaxAgentWeightPercent) +
               "%";
      }
      answer.weight_percent = static_cast<uint32_t>(*value);
      answer.weight.reset();
      return "";
    }
    if (!prefixed) return quote(word) + " is not a word (a weight needs '%', as in '50%')";
    if (*value > kMaxAgentWeight) {
      return "weight " + quote(word) + " is above " + std::to_string(kMaxAgentWeight);
    }
    answer.weight = static_cast<uint32_t>(*value);
    answer.weight_percent.reset();
    return "";
  }

  constexpr std::string_view kMaxconnPrefix = "maxconn:";
  if (starts_with_ci(word, kMaxconnPrefix)) {
    const auto value = parse_digits(word.substr(kMaxconnPrefix.size()));
    if (!value) return "malformed " + quote(word) + " (expected maxconn:N)";
    if (*value > kMaxAgentMaxconn) {
      return "maxconn " + quote(word) + " is above " + std::to_string(kMaxAgentMaxconn);
    }
    answer.maxconn = static_cast<uint32_t>(*value);
    return "";
  }
  return "unknown word " + quote(word);
}

std::string join_issues(const std::vector<std::string>& issues) {
  std::string out;
  for (std::size_t i = 0; i < issues.size() && i < kMaxReportedIssues; ++i) {
    if (i > 0) out += "; ";
    out += issues[i];
  }
  if (issues.size() > kMaxReportedIssues) {
    out += " (and " + std::to_string(issues.size() - kMaxReportedIssues) + " more)";
  }
  return out;
}

ParseResult parse_haproxy(std::string_view line) {
  AgentAnswer answer;
  answer.format = AnswerFormat::kHaproxy;
  std::vector<std::string> issues;
  std::size_t applied = 0;
  bool described = false;
  std::size_t i = 0;
  while (i < line.size()) {
    if (is_separator(line[i])) {
      ++i;
      continue;
    }
    // As in HAProxy, '#' opens the description only at the start of a word.
    if (line[i] == '#') {
      const std::string_view description = trim(line.substr(i + 1));
      answer.description = std::string(description.substr(0, kMaxAgentDescriptionBytes));
      described = true;
      break;
    }
    std::size_t end = i;
    while (end < line.size() && !is_separator(line[end])) ++end;
    std::string issue = apply_word(line.substr(i, end - i), answer);
    if (issue.empty()) {
      ++applied;
    } else {
      issues.push_back(std::move(issue));
    }
    i = end;
  }

  if (applied == 0) {
    if (issues.empty()) {
      return {.error = described ? "no agent word before the '#' description"
                                 : "empty answer; " + std::string(kExpected)};
    }
    return {.error = join_issues(issues) + "; " + std::string(kExpected)};
  }
  ParseResult result{.answer = std::move(answer)};
  if (!issues.empty()) result.warning = "ignored " + join_issues(issues);
  return result;
}

}  // namespace

ParseResult parse_agent_answer(std::string_view text) {
  const std::string_view line = trim(first_line(text));
  if (line.empty()) return {.error = "empty answer; " + std::string(kExpected)};
  if (looks_like_integer(line)) return parse_equalizer(line);
  return parse_haproxy(line);
}

}  // namespace fulcrum::agent
