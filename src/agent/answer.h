#pragma once

// The answer a server agent sends (seed 004 and HAProxy's agent-check), parsed. Two formats,
// told apart per answer: a lone integer -1..100 is Equalizer's load; anything else is a line of
// HAProxy agent words.

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
};

/// Parses one answer: the bytes up to the first line end (or all of `text`). Never throws, never
/// reads past `text`.
ParseResult parse_agent_answer(std::string_view text);

}  // namespace fulcrum::agent
