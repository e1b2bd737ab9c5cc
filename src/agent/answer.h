#pragma once

// The answer a server agent sends (Equalizer's server agent or HAProxy's agent-check), parsed. Two
// formats, told apart per answer: a lone integer -1..100 is Equalizer's load; anything else is a
// line of HAProxy agent words.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fulcrum::agent {

enum class AnswerFormat : uint8_t { kEqualizer, kHaproxy };

/// HAProxy health words: up | down | fail | stopped.
enum class HealthWord : uint8_t { kUp, kDown, kFail, kStopped };
/// HAProxy administrative words: ready | drain | maint.
enum class AdminWord : uint8_t { kReady, kDrain, kMaint };

/// What one answer said. Every field is optional: an answer changes only what it names, the
/// last word of a category winning.
struct AgentAnswer {
  AnswerFormat format = AnswerFormat::kHaproxy;
  std::optional<int> load;  ///< Equalizer: -1 unavailable, 0 light .. 100 heavy.
  std::optional<HealthWord> health;
  std::optional<AdminWord> admin;
  std::optional<uint32_t> weight_percent;  ///< "NN%" or "weight:NN%".
  std::optional<uint32_t> weight;          ///< "weight:N" (absolute).
  std::optional<uint32_t> maxconn;         ///< "maxconn:N".
  std::string description;                 ///< Text after '#', trimmed.

  bool operator==(const AgentAnswer&) const = default;
};

struct ParseResult {
  std::optional<AgentAnswer> answer;  ///< Empty when the text is not a valid answer.
  std::string error;                  ///< Why not, when `answer` is empty.
  /// Words HAProxy-style answers carried that were ignored (unknown, malformed or out of range)
  /// while the others were applied, as HAProxy does; empty when none. Worth logging.
  std::string warning;
};

/// Bounds of the numbers an answer may carry; a word outside them is ignored (see `warning`).
inline constexpr uint32_t kMaxAgentWeightPercent = 25600;  ///< HAProxy's own bound for "NN%".
inline constexpr uint32_t kMaxAgentWeight = 10000;         ///< A configured server weight's bound.
inline constexpr uint32_t kMaxAgentMaxconn = 2147483647;
/// Longer descriptions are cut: they are only ever logged.
inline constexpr std::size_t kMaxAgentDescriptionBytes = 256;

/// Parses one answer: the bytes up to the first line end (CR, LF or NUL; or all of `text`).
/// Never throws, never reads past `text`. A HAProxy answer with at least one valid word is
/// valid, the rest reported in `warning` (HAProxy applies what it understands); with none, or
/// empty, or an integer outside -1..100, it is an error.
ParseResult parse_agent_answer(std::string_view text);

}  // namespace fulcrum::agent
