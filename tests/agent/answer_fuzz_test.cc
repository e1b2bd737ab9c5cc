// Fuzz-style tests of the agent answer parser: random bytes, random word soups and mutations of
// valid answers, each checked against invariants, plus a model of HAProxy's word rules. Seeded
// (FULCRUM_FUZZ_SEED to replay; the seed is printed) and bounded in iterations and time.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agent/answer.h"

namespace fulcrum::agent {
namespace {

constexpr int kIterations = 200000;
constexpr auto kTimeBudget = std::chrono::seconds(3);

uint64_t fuzz_seed() {
  static const uint64_t seed = [] {
    if (const char* text = std::getenv("FULCRUM_FUZZ_SEED"))
      return static_cast<uint64_t>(std::strtoull(text, nullptr, 10));
    return static_cast<uint64_t>(std::random_device{}()) << 32 | std::random_device{}();
  }();
  return seed;
}

class AnswerFuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::cout << "FULCRUM_FUZZ_SEED=" << fuzz_seed() << "\n";
    RecordProperty("fuzz_seed", std::to_string(fuzz_seed()));
  }

  bool out_of_time() const { return std::chrono::steady_clock::now() - start_ > kTimeBudget; }

  std::mt19937_64 rng_{fuzz_seed()};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
};

bool printable(const std::string& text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

std::string_view first_line(std::string_view text) {
  const std::size_t end = text.find_first_of(std::string_view("\r\n\0", 3));
  return text.substr(0, end);
}

/// Parses from an exactly sized heap copy, so AddressSanitizer sees any read past the end, and
/// checks what must hold for every input.
void check(std::string_view text) {
  auto block = std::make_unique<char[]>(text.size());
  if (!text.empty()) std::memcpy(block.get(), text.data(), text.size());
  const ParseResult result = parse_agent_answer(std::string_view(block.get(), text.size()));
  SCOPED_TRACE(::testing::PrintToString(std::string(text)));

  ASSERT_NE(result.answer.has_value(), !result.error.empty()) << "exactly one of answer, error";
  ASSERT_TRUE(printable(result.error)) << result.error;
  ASSERT_TRUE(printable(result.warning)) << result.warning;
  ASSERT_LT(result.error.size(), 1024U);
  ASSERT_LT(result.warning.size(), 1024U);
  if (result.answer) {
    const AgentAnswer& answer = *result.answer;
    if (answer.format == AnswerFormat::kEqualizer) {
      ASSERT_TRUE(answer.load.has_value());
      ASSERT_GE(*answer.load, -1);
      ASSERT_LE(*answer.load, 100);
      ASSERT_EQ(answer, (AgentAnswer{.format = AnswerFormat::kEqualizer, .load = answer.load}));
      ASSERT_TRUE(result.warning.empty());
    } else {
      ASSERT_FALSE(answer.load.has_value());
      ASSERT_TRUE(answer.health || answer.admin || answer.weight_percent || answer.weight ||
                  answer.maxconn)
          << "a valid HAProxy answer says something";
      ASSERT_FALSE(answer.weight && answer.weight_percent) << "one weight category";
      if (answer.weight_percent) {
        ASSERT_LE(*answer.weight_percent, kMaxAgentWeightPercent);
      }
      if (answer.weight) {
        ASSERT_LE(*answer.weight, kMaxAgentWeight);
      }
      if (answer.maxconn) {
        ASSERT_LE(*answer.maxconn, kMaxAgentMaxconn);
      }
      ASSERT_LE(answer.description.size(), kMaxAgentDescriptionBytes);
      ASSERT_EQ(answer.description.find_first_of(std::string_view("\r\n\0", 3)), std::string::npos);
    }
  }
  // Only the first line counts, and the parser is a function of its input.
  const ParseResult line_only = parse_agent_answer(first_line(text));
  ASSERT_EQ(line_only.answer, result.answer);
  ASSERT_EQ(line_only.error, result.error);
  ASSERT_EQ(line_only.warning, result.warning);
}

TEST_F(AnswerFuzzTest, RandomBytes) {
  int done = 0;
  for (; done < kIterations && !out_of_time(); ++done) {
    std::string text(below(48), '\0');
    for (char& c : text) c = static_cast<char>(below(256));
    check(text);
    if (HasFatalFailure()) return;
  }
  std::cout << done << " random inputs\n";
}

TEST_F(AnswerFuzzTest, RandomTextFromTheAnswerAlphabet) {
  static constexpr std::string_view kAlphabet =
      "updownfailstoppedreadydrainmaintweightmaxconn"
      "UPDRAIN0123456789%:,# \t\r\n-+\x80\xff";
  int done = 0;
  for (; done < kIterations && !out_of_time(); ++done) {
    std::string text(below(40), ' ');
    for (char& c : text) c = kAlphabet[below(kAlphabet.size())];
    check(text);
    if (HasFatalFailure()) return;
  }
  std::cout << done << " alphabet inputs\n";
}

TEST_F(AnswerFuzzTest, MutatedValidAnswers) {
  static const std::vector<std::string> kValid = {"50",
                                                  "-1",
                                                  "100\r\n",
                                                  "up",
                                                  "drain",
                                                  "75%,maxconn:30,maint,down",
                                                  "up ready 75%\n",
                                                  "weight:25%",
                                                  "weight:3 maxconn:10",
                                                  "stopped # going away",
                                                  "READY\t100%"};
  int done = 0;
  for (; done < kIterations && !out_of_time(); ++done) {
    std::string text = kValid[below(kValid.size())];
    const std::size_t edits = 1 + below(4);
    for (std::size_t e = 0; e < edits; ++e) {
      const char byte = static_cast<char>(below(256));
      const std::size_t at = text.empty() ? 0 : below(text.size());
      switch (below(4)) {
        case 0:
          if (!text.empty()) text[at] = byte;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
          break;
        case 2:
          if (!text.empty()) text.erase(at, 1);
          break;
        default:
          text += std::to_string(below(100000));
          break;
      }
    }
    check(text);
    if (HasFatalFailure()) return;
  }
  std::cout << done << " mutated answers\n";
}

TEST_F(AnswerFuzzTest, RandomValidWordsMatchAModelOfHaproxyRules) {
  // Words with random case and separators; the last word of each category must win.
  static constexpr std::string_view kSeparators[] = {" ", "\t", ",", " , ", "\t,"};
  int done = 0;
  for (; done < kIterations / 4 && !out_of_time(); ++done) {
    AgentAnswer expected{.format = AnswerFormat::kHaproxy};
    std::string text = below(2) ? "" : std::string(kSeparators[below(5)]);
    const std::size_t words = 1 + below(6);
    for (std::size_t w = 0; w < words; ++w) {
      std::string word;
      switch (below(5)) {
        case 0: {
          static constexpr const char* kHealth[] = {"up", "down", "fail", "stopped"};
          const std::size_t i = below(4);
          word = kHealth[i];
          expected.health = static_cast<HealthWord>(i);
          break;
        }
        case 1: {
          static constexpr const char* kAdmin[] = {"ready", "drain", "maint"};
          const std::size_t i = below(3);
          word = kAdmin[i];
          expected.admin = static_cast<AdminWord>(i);
          break;
        }
        case 2: {
          const auto value = static_cast<uint32_t>(below(kMaxAgentWeightPercent + 1));
          word = (below(2) ? "weight:" : "") + std::to_string(value) + "%";
          expected.weight_percent = value;
          expected.weight.reset();
          break;
        }
        case 3: {
          const auto value = static_cast<uint32_t>(below(kMaxAgentWeight + 1));
          word = "weight:" + std::to_string(value);
          expected.weight = value;
          expected.weight_percent.reset();
          break;
        }
        default: {
          const auto value = static_cast<uint32_t>(below(uint64_t{kMaxAgentMaxconn} + 1));
          word = "maxconn:" + std::to_string(value);
          expected.maxconn = value;
          break;
        }
      }
      for (char& c : word) {
        if (below(2)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      text += word + std::string(kSeparators[below(5)]);
    }
    if (below(2)) {
      text += "# note " + std::to_string(done);
      expected.description = "note " + std::to_string(done);
    }
    const ParseResult result = parse_agent_answer(text);
    ASSERT_TRUE(result.answer) << text << ": " << result.error;
    ASSERT_EQ(*result.answer, expected) << text;
    ASSERT_TRUE(result.warning.empty()) << text << ": " << result.warning;
  }
  std::cout << done << " modelled answers\n";
}

TEST_F(AnswerFuzzTest, RandomIntegersMatchTheirValue) {
  int done = 0;
  for (; done < kIterations / 4 && !out_of_time(); ++done) {
    const auto value = static_cast<long long>(below(4000)) - 2000;
    const std::string text = std::string(below(3), ' ') + std::to_string(value) +
                             std::string(below(3), '\t') + (below(2) ? "\r\n" : "");
    const ParseResult result = parse_agent_answer(text);
    if (value >= -1 && value <= 100) {
      ASSERT_TRUE(result.answer) << text;
      ASSERT_EQ(result.answer->load, value);
    } else {
      ASSERT_FALSE(result.answer) << text;
      ASSERT_NE(result.error.find("outside -1..100"), std::string::npos);
    }
  }
  std::cout << done << " integers\n";
}

}  // namespace
}  // namespace fulcrum::agent
