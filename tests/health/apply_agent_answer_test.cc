// How agent answers and silence map onto a server's live state. Answers are written as agents
// send them and parsed by the real parser, so the two stay in step.

#include "health/apply_agent_answer.h"

#include <gtest/gtest.h>

namespace fulcrum::health {
namespace {

using core::AgentAdmin;
using core::AgentHealth;

AgentOutcome answer(std::string_view text, core::ServerState& state, uint32_t weight = 1) {
  const agent::ParseResult parsed = agent::parse_agent_answer(text);
  EXPECT_TRUE(parsed.answer.has_value()) << text << ": " << parsed.error;
  return apply_agent_answer(parsed.answer.value_or(agent::AgentAnswer{}), weight, state);
}

TEST(ApplyAgentAnswer, EqualizerLoadIsStoredAndMinusOneKeepsTheServerOut) {
  core::ServerState s("a:1");
  AgentOutcome o = answer("40\n", s);
  EXPECT_EQ(s.agent_load.load(), 40);
  EXPECT_FALSE(o.came_back());
  EXPECT_TRUE(o.changed());
  o = answer("-1\n", s);
  EXPECT_EQ(s.agent_load.load(), core::kAgentUnavailable);
  EXPECT_TRUE(o.after.keeps_out());
  EXPECT_FALSE(o.came_back());
  o = answer("0", s);
  EXPECT_EQ(s.agent_load.load(), 0);
  EXPECT_TRUE(o.came_back());
  o = answer("0", s);
  EXPECT_FALSE(o.changed());
}

TEST(ApplyAgentAnswer, HaproxyWordsSetHealthAdminWeightAndMaxconn) {
  core::ServerState s("a:1");
  answer("down # disk full", s);
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kDown);
  answer("fail", s);
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kDown);
  answer("stopped", s);
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kDown);
  const AgentOutcome o = answer("up ready 75% maxconn:30", s);
  EXPECT_TRUE(o.came_back());
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kUp);
  EXPECT_EQ(s.agent_admin.load(), AgentAdmin::kReady);
  EXPECT_EQ(s.agent_weight_percent.load(), 75);
  EXPECT_EQ(s.agent_maxconn.load(), 30u);
  answer("drain", s);
  EXPECT_EQ(s.agent_admin.load(), AgentAdmin::kDrain);
  EXPECT_EQ(s.agent_weight_percent.load(), 75) << "words not named keep their value";
  answer("maint", s);
  EXPECT_EQ(s.agent_admin.load(), AgentAdmin::kMaint);
  EXPECT_EQ(s.agent_load.load(), core::kAgentLoadUnknown) << "HAProxy answers carry no load";
}

TEST(ApplyAgentAnswer, AbsoluteWeightBecomesAPercentageOfTheConfiguredWeight) {
  core::ServerState s("a:1");
  answer("weight:5", s, /*weight=*/20);
  EXPECT_EQ(s.agent_weight_percent.load(), 25);
  answer("weight:40", s, 20);
  EXPECT_EQ(s.agent_weight_percent.load(), 200);
  answer("weight:25%", s, 20);
  EXPECT_EQ(s.agent_weight_percent.load(), 25);
  answer("weight:7", s, /*weight=*/0);
  EXPECT_EQ(s.agent_weight_percent.load(), 100) << "weight 0 stays 0 whatever the agent says";
  const AgentOutcome o = answer("0%", s);
  EXPECT_TRUE(o.after.keeps_out());
  EXPECT_TRUE(answer("50%", s).came_back());
}

TEST(ApplyAgentAnswer, ALoadAfterDrainOrDownBringsTheServerBack) {
  core::ServerState s("a:1");
  answer("drain", s);
  EXPECT_TRUE(answer("50", s).came_back());
  EXPECT_EQ(s.agent_admin.load(), AgentAdmin::kReady);
  answer("down", s);
  EXPECT_TRUE(answer("50", s).came_back());
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kUp);
}

TEST(ApplyAgentAnswer, UpOrReadyEndsAnEarlierMinusOne) {
  core::ServerState s("a:1");
  answer("-1", s);
  EXPECT_TRUE(answer("ready", s).came_back());
  EXPECT_EQ(s.agent_load.load(), core::kAgentLoadUnknown);
  answer("-1", s);
  EXPECT_FALSE(answer("75%", s).came_back()) << "a weight alone does not end -1";
  EXPECT_EQ(s.agent_load.load(), core::kAgentUnavailable);
}

TEST(ApplyAgentSilence, WithoutRequiredResponseOnlyTheLoadIsForgotten) {
  core::ServerState s("a:1");
  answer("-1", s);
  const AgentOutcome o = apply_agent_silence(false, s);
  EXPECT_EQ(s.agent_load.load(), core::kAgentLoadUnknown);
  EXPECT_TRUE(o.came_back()) << "balanced without the agent's value";
  answer("drain", s);
  apply_agent_silence(false, s);
  EXPECT_EQ(s.agent_admin.load(), AgentAdmin::kDrain) << "what the agent said last stands";
}

TEST(ApplyAgentSilence, RequiredResponseMarksSilentUntilAnAnswer) {
  core::ServerState s("a:1");
  answer("30", s);
  AgentOutcome o = apply_agent_silence(true, s);
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kSilent);
  EXPECT_TRUE(o.after.keeps_out());
  o = answer("drain", s);
  EXPECT_EQ(s.agent_health.load(), AgentHealth::kUnknown) << "any answer ends silence";
  EXPECT_TRUE(o.after.keeps_out());
  apply_agent_silence(true, s);
  EXPECT_TRUE(answer("20", s).came_back());
}

TEST(AgentView, Describe) {
  core::ServerState s("a:1");
  EXPECT_EQ(AgentView::of(s).describe(),
            "load unknown, health unknown, ready, weight 100%, maxconn none");
  answer("40", s);
  answer("drain 50% maxconn:9", s);
  EXPECT_EQ(AgentView::of(s).describe(), "load 40, up, drain, weight 50%, maxconn 9");
}

}  // namespace
}  // namespace fulcrum::health
