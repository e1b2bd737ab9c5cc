// The agent answer parser on arbitrary bytes: it must never throw or read past its input, and
// its result must respect the bounds the proxy relies on (load -1..100, weights and maxconn
// within their limits, a bounded description, an error exactly when there is no answer).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/answer.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using fulcrum::fuzz::check;
  namespace agent = fulcrum::agent;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const agent::ParseResult result = agent::parse_agent_answer(input);

  check(result.answer.has_value() == result.error.empty());
  if (const auto& a = result.answer) {
    check(result.error.empty());
    if (a->format == agent::AnswerFormat::kEqualizer) {
      check(a->load.has_value() && *a->load >= -1 && *a->load <= 100);
      check(!a->health && !a->admin && !a->weight && !a->weight_percent && !a->maxconn);
      check(a->description.empty() && result.warning.empty());
    } else {
      check(!a->load.has_value());
      check(a->health || a->admin || a->weight || a->weight_percent || a->maxconn);
    }
    check(!(a->weight && a->weight_percent));  // One weight category: the last word wins.
    if (a->weight) check(*a->weight <= agent::kMaxAgentWeight);
    if (a->weight_percent) check(*a->weight_percent <= agent::kMaxAgentWeightPercent);
    if (a->maxconn) check(*a->maxconn <= agent::kMaxAgentMaxconn);
    check(a->description.size() <= agent::kMaxAgentDescriptionBytes);
  } else {
    check(result.warning.empty());
  }

  // Only the first line counts: whatever follows a line end changes nothing.
  const std::string followed = std::string(input) + "\nmaint 0%";
  const agent::ParseResult again = agent::parse_agent_answer(followed);
  check(again.answer == result.answer && again.error == result.error &&
        again.warning == result.warning);
  return 0;
}
