// The agent answer parser: Equalizer integers and HAProxy agent-check words, word by word.
#include "agent/answer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

namespace fulcrum::agent {
namespace {

AgentAnswer parsed(std::string_view text) {
  const ParseResult result = parse_agent_answer(text);
  EXPECT_TRUE(result.answer.has_value()) << "'" << text << "': " << result.error;
  EXPECT_TRUE(result.error.empty());
  return result.answer.value_or(AgentAnswer{});
}

std::string error_of(std::string_view text) {
  const ParseResult result = parse_agent_answer(text);
  EXPECT_FALSE(result.answer.has_value()) << "'" << text << "' parsed";
  EXPECT_FALSE(result.error.empty());
  return result.error;
}

AgentAnswer haproxy() { return AgentAnswer{.format = AnswerFormat::kHaproxy}; }

TEST(EqualizerAnswerTest, IntegersFromMinusOneToHundredAreLoads) {
  for (int load = -1; load <= 100; ++load) {
    const AgentAnswer answer = parsed(std::to_string(load));
    EXPECT_EQ(answer.format, AnswerFormat::kEqualizer);
    EXPECT_EQ(answer.load, load);
    EXPECT_EQ(answer, (AgentAnswer{.format = AnswerFormat::kEqualizer, .load = load}));
  }
}

TEST(EqualizerAnswerTest, BlanksAroundAndLineEndsAfterAreAllowed) {
  EXPECT_EQ(parsed("42\n").load, 42);
  EXPECT_EQ(parsed("42\r\n").load, 42);
  EXPECT_EQ(parsed("  7 \r\n").load, 7);
  EXPECT_EQ(parsed("\t-1\t\n").load, -1);
  EXPECT_EQ(parsed("007").load, 7);
  EXPECT_EQ(parsed("-0").load, 0);
}

TEST(EqualizerAnswerTest, IntegersOutsideTheRangeAreErrors) {
  EXPECT_NE(error_of("101").find("'101' is outside -1..100"), std::string::npos);
  EXPECT_NE(error_of("-2").find("outside -1..100"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999999999999").find("outside -1..100"), std::string::npos);
  EXPECT_NE(error_of("-99999999999999999999999999999").find("outside"), std::string::npos);
}

TEST(EqualizerAnswerTest, OtherNumberShapesAreNotLoads) {
  EXPECT_NE(error_of("+5").find("unknown word '+5'"), std::string::npos);
  EXPECT_NE(error_of("1e2").find("'1e2'"), std::string::npos);
  EXPECT_NE(error_of("4 2").find("'4' is not a word"), std::string::npos);
  EXPECT_NE(error_of("-").find("unknown word '-'"), std::string::npos);
  EXPECT_NE(error_of("50 # busy").find("'50' is not a word"), std::string::npos);
}

TEST(HaproxyAnswerTest, HealthWords) {
  EXPECT_EQ(parsed("up").health, HealthWord::kUp);
  EXPECT_EQ(parsed("down").health, HealthWord::kDown);
  EXPECT_EQ(parsed("fail").health, HealthWord::kFail);
  EXPECT_EQ(parsed("stopped").health, HealthWord::kStopped);
  auto expected = haproxy();
  expected.health = HealthWord::kUp;
  EXPECT_EQ(parsed("up"), expected);
}

TEST(HaproxyAnswerTest, AdminWords) {
  EXPECT_EQ(parsed("ready").admin, AdminWord::kReady);
  EXPECT_EQ(parsed("drain").admin, AdminWord::kDrain);
  EXPECT_EQ(parsed("maint").admin, AdminWord::kMaint);
  auto expected = haproxy();
  expected.admin = AdminWord::kDrain;
  EXPECT_EQ(parsed("drain\n"), expected);
}

TEST(HaproxyAnswerTest, WeightWords) {
  EXPECT_EQ(parsed("75%").weight_percent, 75U);
  EXPECT_EQ(parsed("0%").weight_percent, 0U);
  EXPECT_EQ(parsed("25600%").weight_percent, kMaxAgentWeightPercent);
  EXPECT_EQ(parsed("weight:25%").weight_percent, 25U);
  EXPECT_EQ(parsed("weight:3").weight, 3U);
  EXPECT_EQ(parsed("weight:10000").weight, kMaxAgentWeight);
  EXPECT_EQ(parsed("weight:0").weight, 0U);
  EXPECT_FALSE(parsed("weight:3").weight_percent.has_value());
  EXPECT_FALSE(parsed("75%").weight.has_value());
}

TEST(HaproxyAnswerTest, MaxconnWord) {
  EXPECT_EQ(parsed("maxconn:30").maxconn, 30U);
  EXPECT_EQ(parsed("maxconn:0").maxconn, 0U);
  EXPECT_EQ(parsed("maxconn:2147483647").maxconn, kMaxAgentMaxconn);
}

TEST(HaproxyAnswerTest, WordsAreCaseInsensitive) {
  const AgentAnswer answer = parsed("UP DrAiN WEIGHT:50% MaxConn:10");
  EXPECT_EQ(answer.health, HealthWord::kUp);
  EXPECT_EQ(answer.admin, AdminWord::kDrain);
  EXPECT_EQ(answer.weight_percent, 50U);
  EXPECT_EQ(answer.maxconn, 10U);
  EXPECT_EQ(parsed("STOPPED").health, HealthWord::kStopped);
  EXPECT_EQ(parsed("Maint").admin, AdminWord::kMaint);
}

TEST(HaproxyAnswerTest, WordsInAnyOrderEachCategoryIndependent) {
  // HAProxy's own regression test sends this line.
  const AgentAnswer answer = parsed("75%,maxconn:30,maint,down\n");
  auto expected = haproxy();
  expected.health = HealthWord::kDown;
  expected.admin = AdminWord::kMaint;
  expected.weight_percent = 75;
  expected.maxconn = 30;
  EXPECT_EQ(answer, expected);
  EXPECT_EQ(parsed("down,maint,maxconn:30,75%"), expected);
}

TEST(HaproxyAnswerTest, LastWordOfACategoryWins) {
  EXPECT_EQ(parsed("up down").health, HealthWord::kDown);
  EXPECT_EQ(parsed("down fail up").health, HealthWord::kUp);
  EXPECT_EQ(parsed("drain ready").admin, AdminWord::kReady);
  EXPECT_EQ(parsed("ready maint drain").admin, AdminWord::kDrain);
  EXPECT_EQ(parsed("maxconn:5 maxconn:7").maxconn, 7U);
  EXPECT_EQ(parsed("10% 20%").weight_percent, 20U);
}

TEST(HaproxyAnswerTest, PercentAndAbsoluteWeightsShareOneCategory) {
  const AgentAnswer absolute_last = parsed("50% weight:3");
  EXPECT_EQ(absolute_last.weight, 3U);
  EXPECT_FALSE(absolute_last.weight_percent.has_value());
  const AgentAnswer percent_last = parsed("weight:3 weight:50%");
  EXPECT_EQ(percent_last.weight_percent, 50U);
  EXPECT_FALSE(percent_last.weight.has_value());
}

TEST(HaproxyAnswerTest, SpacesTabsAndCommasSeparateWords) {
  auto expected = haproxy();
  expected.health = HealthWord::kUp;
  expected.admin = AdminWord::kDrain;
  for (const char* text :
       {"up drain", "up,drain", "up\tdrain", " ,up , ,\tdrain,, ", "up,\t drain"}) {
    EXPECT_EQ(parsed(text), expected) << text;
  }
}

TEST(HaproxyAnswerTest, DescriptionFollowsTheSharp) {
  const AgentAnswer answer = parsed("down # disk full, again \t\r\n");
  EXPECT_EQ(answer.health, HealthWord::kDown);
  EXPECT_EQ(answer.description, "disk full, again");
  EXPECT_EQ(parsed("down #").description, "");
  EXPECT_EQ(parsed("down,#maintenance window").description, "maintenance window");
  // Words after the sharp are description, not words.
  EXPECT_FALSE(parsed("up # drain").admin.has_value());
}

TEST(HaproxyAnswerTest, LongDescriptionsAreCut) {
  const std::string long_text(1000, 'x');
  EXPECT_EQ(parsed("up # " + long_text).description.size(), kMaxAgentDescriptionBytes);
}

TEST(HaproxyAnswerTest, SharpInsideAWordIsNotADescription) {
  // As in HAProxy: '#' opens the description only where a word would start.
  EXPECT_NE(error_of("up#x").find("unknown word 'up#x'"), std::string::npos);
  const ParseResult result = parse_agent_answer("drain up#x");
  ASSERT_TRUE(result.answer);
  EXPECT_EQ(result.answer->description, "");
  EXPECT_NE(result.warning.find("'up#x'"), std::string::npos);
}

TEST(HaproxyAnswerTest, UnknownWordsAmongValidOnesAreIgnoredWithAWarning) {
  // HAProxy applies the words it knows and reports the first one it does not.
  const ParseResult result = parse_agent_answer("up frobnicate 50%");
  ASSERT_TRUE(result.answer);
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(result.answer->health, HealthWord::kUp);
  EXPECT_EQ(result.answer->weight_percent, 50U);
  EXPECT_EQ(result.warning, "ignored unknown word 'frobnicate'");
  EXPECT_TRUE(parse_agent_answer("up 50%").warning.empty());
}

TEST(HaproxyAnswerTest, BadNumbersAmongValidWordsAreIgnoredWithAWarning) {
  const ParseResult result = parse_agent_answer("drain 30000% weight:10001 maxconn:x 5x% up 50");
  ASSERT_TRUE(result.answer);
  EXPECT_EQ(result.answer->admin, AdminWord::kDrain);
  EXPECT_EQ(result.answer->health, HealthWord::kUp);
  EXPECT_FALSE(result.answer->weight_percent.has_value());
  EXPECT_FALSE(result.answer->weight.has_value());
  EXPECT_FALSE(result.answer->maxconn.has_value());
  EXPECT_NE(result.warning.find("weight '30000%' is above 25600%"), std::string::npos);
  EXPECT_NE(result.warning.find("weight 'weight:10001' is above 10000"), std::string::npos);
  EXPECT_NE(result.warning.find("malformed 'maxconn:x'"), std::string::npos);
  EXPECT_NE(result.warning.find("malformed weight '5x%'"), std::string::npos);
  EXPECT_NE(result.warning.find("(and 1 more)"), std::string::npos) << result.warning;
}

TEST(HaproxyAnswerTest, AnswersWithoutAnyValidWordAreErrors) {
  EXPECT_NE(error_of("hello").find("unknown word 'hello'"), std::string::npos);
  EXPECT_NE(error_of("hello").find("an answer is an integer -1..100"), std::string::npos);
  EXPECT_NE(error_of("30000%").find("is above 25600%"), std::string::npos);
  EXPECT_NE(error_of("weight:10001").find("is above 10000"), std::string::npos);
  EXPECT_NE(error_of("maxconn:2147483648").find("is above 2147483647"), std::string::npos);
  EXPECT_NE(error_of("maxconn:").find("malformed 'maxconn:'"), std::string::npos);
  EXPECT_NE(error_of("maxconn:-1").find("malformed"), std::string::npos);
  EXPECT_NE(error_of("weight:").find("malformed weight"), std::string::npos);
  EXPECT_NE(error_of("weight:%").find("malformed weight"), std::string::npos);
  EXPECT_NE(error_of("50%%").find("malformed weight"), std::string::npos);
  EXPECT_NE(error_of("-5%").find("unknown word '-5%'"), std::string::npos);
  EXPECT_NE(error_of("weight").find("unknown word 'weight'"), std::string::npos);
  EXPECT_NE(error_of("# only a description").find("no agent word before"), std::string::npos);
  EXPECT_NE(error_of(", ,\t,").find("empty answer"), std::string::npos);
}

TEST(AnswerTest, EmptyAnswersAreErrors) {
  for (const char* text : {"", " ", "\t \t", "\n", "\r\n", "  \r\nup"}) {
    EXPECT_NE(error_of(text).find("empty answer"), std::string::npos) << text;
  }
}

TEST(AnswerTest, OnlyTheFirstLineCounts) {
  EXPECT_EQ(parsed("50\nmaint").load, 50);
  EXPECT_EQ(parsed("up\r\ndrain"), parsed("up"));
  EXPECT_EQ(parsed("up\rdrain"), parsed("up"));
  EXPECT_EQ(parsed(std::string_view("up\0drain", 8)), parsed("up"));
}

TEST(AnswerTest, NeverReadsPastTheView) {
  // An exactly sized heap block, no terminator: AddressSanitizer reports any read beyond it.
  const std::string text = "up drain 75%";
  for (std::size_t size = 0; size <= text.size(); ++size) {
    auto block = std::make_unique<char[]>(size);
    std::memcpy(block.get(), text.data(), size);
    const ParseResult result = parse_agent_answer(std::string_view(block.get(), size));
    if (size >= 2) {
      ASSERT_TRUE(result.answer) << size;
    }
  }
  const AgentAnswer prefix = parsed(std::string_view(text).substr(0, 2));
  EXPECT_EQ(prefix.health, HealthWord::kUp);
  EXPECT_FALSE(prefix.admin.has_value());
}

TEST(AnswerTest, MessagesShowOddBytesEscapedAndBounded) {
  const std::string error = error_of(std::string("\x01\xff'\\zz", 6));
  EXPECT_NE(error.find("'\\x01\\xff\\x27\\x5czz'"), std::string::npos) << error;
  const std::string long_word(500, 'q');
  const std::string long_error = error_of(long_word);
  EXPECT_NE(long_error.find("'" + std::string(40, 'q') + "...'"), std::string::npos);
  EXPECT_LT(long_error.size(), 300U);
}

TEST(AnswerTest, AnswersOfExistingHaproxyAgents) {
  // Lines published HAProxy agents send.
  EXPECT_EQ(parsed("UP 99%").weight_percent, 99U);
  EXPECT_EQ(parsed("DRAIN 99%").admin, AdminWord::kDrain);
  EXPECT_EQ(parsed("READY 100%").admin, AdminWord::kReady);
  EXPECT_EQ(parsed("up ready 75%\n").weight_percent, 75U);
  EXPECT_EQ(parsed("stopped # shutting down").description, "shutting down");
  EXPECT_EQ(parsed("maint\n").admin, AdminWord::kMaint);
}

}  // namespace
}  // namespace fulcrum::agent
