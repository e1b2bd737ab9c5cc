#include "agent/reply.h"

#include <algorithm>

namespace fulcrum::agent {

std::string reply_for_load(int load, AnswerFormat format) {
  load = std::clamp(load, -1, 100);
  if (format == AnswerFormat::kEqualizer) return std::to_string(load);
  if (load < 0) return "drain";
  return "up ready " + std::to_string(std::max(1, 100 - load)) + "%";
}

LineReply reply_for_line(std::string_view content, AnswerFormat format) {
  const std::size_t end = content.find_first_of(std::string_view("\r\n\0", 3));
  std::string_view line = content.substr(0, end);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.empty()) return {};

  const ParseResult parsed = parse_agent_answer(line);
  if (!parsed.answer) return {.kind = LineKind::kInvalid, .problem = parsed.error};
  if (parsed.answer->load && format == AnswerFormat::kHaproxy) {
    return {.kind = LineKind::kAnswer, .text = reply_for_load(*parsed.answer->load, format)};
  }
  return {.kind = LineKind::kAnswer, .text = std::string(line), .problem = parsed.warning};
}

}  // namespace fulcrum::agent
