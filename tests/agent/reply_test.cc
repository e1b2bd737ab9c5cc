// What fulcrum-agent sends for a measured load or an operator's line, in both formats.
#include "agent/reply.h"

#include <gtest/gtest.h>

namespace fulcrum::agent {
namespace {

TEST(ReplyForLoadTest, EqualizerSaysTheInteger) {
  EXPECT_EQ(reply_for_load(0, AnswerFormat::kEqualizer), "0");
  EXPECT_EQ(reply_for_load(37, AnswerFormat::kEqualizer), "37");
  EXPECT_EQ(reply_for_load(100, AnswerFormat::kEqualizer), "100");
  EXPECT_EQ(reply_for_load(-1, AnswerFormat::kEqualizer), "-1");
  EXPECT_EQ(reply_for_load(250, AnswerFormat::kEqualizer), "100");
}

TEST(ReplyForLoadTest, HaproxySaysTheSpareCapacityAsAWeight) {
  EXPECT_EQ(reply_for_load(0, AnswerFormat::kHaproxy), "up ready 100%");
  EXPECT_EQ(reply_for_load(30, AnswerFormat::kHaproxy), "up ready 70%");
  EXPECT_EQ(reply_for_load(99, AnswerFormat::kHaproxy), "up ready 1%");
  EXPECT_EQ(reply_for_load(100, AnswerFormat::kHaproxy), "up ready 1%") << "never 0 by load";
  EXPECT_EQ(reply_for_load(-1, AnswerFormat::kHaproxy), "drain");
}

TEST(ReplyForLoadTest, EveryReplyParsesBackToWhatItMeans) {
  for (int load = -1; load <= 100; ++load) {
    const ParseResult equalizer =
        parse_agent_answer(reply_for_load(load, AnswerFormat::kEqualizer));
    ASSERT_TRUE(equalizer.answer);
    EXPECT_EQ(equalizer.answer->load, load);
    const ParseResult haproxy = parse_agent_answer(reply_for_load(load, AnswerFormat::kHaproxy));
    ASSERT_TRUE(haproxy.answer);
    if (load < 0) {
      EXPECT_EQ(haproxy.answer->admin, AdminWord::kDrain);
    } else {
      EXPECT_EQ(haproxy.answer->health, HealthWord::kUp);
      EXPECT_EQ(haproxy.answer->admin, AdminWord::kReady);
      EXPECT_EQ(haproxy.answer->weight_percent, static_cast<uint32_t>(std::max(1, 100 - load)));
    }
  }
}

TEST(ReplyForLineTest, ValidLinesAreSentAsWrittenTrimmed) {
  const LineReply drain = reply_for_line("  drain \nignored\n", AnswerFormat::kEqualizer);
  EXPECT_EQ(drain.kind, LineKind::kAnswer);
  EXPECT_EQ(drain.text, "drain");
  EXPECT_EQ(reply_for_line("maint # upgrade\r\n", AnswerFormat::kHaproxy).text, "maint # upgrade");
  EXPECT_EQ(reply_for_line("-1\n", AnswerFormat::kEqualizer).text, "-1");
  EXPECT_EQ(reply_for_line("50", AnswerFormat::kEqualizer).text, "50");
}

TEST(ReplyForLineTest, HaproxyFormatTranslatesIntegers) {
  EXPECT_EQ(reply_for_line("50\n", AnswerFormat::kHaproxy).text, "up ready 50%");
  EXPECT_EQ(reply_for_line("-1", AnswerFormat::kHaproxy).text, "drain");
}

TEST(ReplyForLineTest, BlankAndInvalidLinesSayNothing) {
  EXPECT_EQ(reply_for_line("", AnswerFormat::kEqualizer).kind, LineKind::kBlank);
  EXPECT_EQ(reply_for_line(" \t\nup\n", AnswerFormat::kEqualizer).kind, LineKind::kBlank);
  const LineReply invalid = reply_for_line("dran\n", AnswerFormat::kHaproxy);
  EXPECT_EQ(invalid.kind, LineKind::kInvalid);
  EXPECT_TRUE(invalid.text.empty());
  EXPECT_NE(invalid.problem.find("unknown word 'dran'"), std::string::npos);
  EXPECT_EQ(reply_for_line("150", AnswerFormat::kEqualizer).kind, LineKind::kInvalid);
}

TEST(ReplyForLineTest, IgnoredWordsAreSentButReported) {
  const LineReply reply = reply_for_line("drain pls", AnswerFormat::kHaproxy);
  EXPECT_EQ(reply.kind, LineKind::kAnswer);
  EXPECT_EQ(reply.text, "drain pls");
  EXPECT_NE(reply.problem.find("'pls'"), std::string::npos);
}

}  // namespace
}  // namespace fulcrum::agent
