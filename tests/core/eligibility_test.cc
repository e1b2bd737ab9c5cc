// Eligibility: every reason, which one wins when several hold, what panic mode may override (not
// passive tracking), and that every registered policy honours the reasons added for agents and
// outlier ejection.
#include "core/eligibility.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/policy_registry.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using std::chrono::seconds;

const PassiveOptions kPassive{3, seconds(10)};
const Nanos kNow{100'000'000'000};

struct Way {
  const char* name;
  std::function<void(ServerState&)> apply;
  Eligibility expected;
};

// One way per reason a weighted, enabled server can be ineligible (weight 0 is in the spec).
std::vector<Way> ways() {
  return {
      {"disabled", [](ServerState& s) { s.admin_state = AdminState::kDisabled; },
       Eligibility::kDisabled},
      {"draining", [](ServerState& s) { s.admin_state = AdminState::kDraining; },
       Eligibility::kDraining},
      {"agent_minus_one", [](ServerState& s) { s.agent_load = kAgentUnavailable; },
       Eligibility::kAgentUnavailable},
      {"agent_down", [](ServerState& s) { s.agent_health = AgentHealth::kDown; },
       Eligibility::kAgentDown},
      {"agent_maint", [](ServerState& s) { s.agent_admin = AgentAdmin::kMaint; },
       Eligibility::kAgentMaint},
      {"agent_drain", [](ServerState& s) { s.agent_admin = AgentAdmin::kDrain; },
       Eligibility::kAgentDrain},
      {"agent_weight_zero", [](ServerState& s) { s.agent_weight_percent = 0; },
       Eligibility::kAgentWeightZero},
      {"agent_maxconn",
       [](ServerState& s) {
         s.agent_maxconn = 2;
         s.active_connections = 2;
       },
       Eligibility::kAgentMaxconn},
      {"checks_down", [](ServerState& s) { s.check_health = CheckHealth::kDown; },
       Eligibility::kDownByChecks},
      {"down_by_peers", [](ServerState& s) { s.down_by_peers = true; }, Eligibility::kDownByPeers},
      {"agent_silent", [](ServerState& s) { s.agent_health = AgentHealth::kSilent; },
       Eligibility::kAgentSilent},
      {"ejected", [](ServerState& s) { s.ejected_until_ns = (kNow + seconds(1)).count(); },
       Eligibility::kEjected},
      {"offline",
       [](ServerState& s) {
         s.consecutive_failures = 3;
         s.last_failure_ns = kNow.count();
       },
       Eligibility::kOffline},
      {"trial_busy",
       [](ServerState& s) {
         s.consecutive_failures = 3;
         s.last_failure_ns = (kNow - seconds(10)).count();
         s.trial_in_progress = true;
       },
       Eligibility::kTrialBusy},
  };
}

TEST(Eligibility, EachWayGivesItsReason) {
  for (const Way& way : ways()) {
    ServerState s("a:1");
    way.apply(s);
    EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), way.expected) << way.name;
  }
}

TEST(Eligibility, PanicOverridesOnlyWhatFulcrumInferredFromProbes) {
  for (const Way& way : ways()) {
    ServerState s("a:1");
    way.apply(s);
    const Eligibility in_panic = evaluate({"a:1"}, s, kPassive, kNow, /*panic=*/true);
    if (inferred(way.expected)) {
      EXPECT_EQ(in_panic, Eligibility::kEligible) << way.name;
    } else {
      EXPECT_EQ(in_panic, way.expected) << way.name;
    }
  }
  ServerState s("a:1");
  EXPECT_EQ(evaluate({"a:1", 0}, s, kPassive, kNow, true), Eligibility::kZeroWeight);
}

TEST(Eligibility, PanicKeepsAPassivelyOfflineServerOutUntilItsTrial) {
  // Down by checks too: panic lifts that verdict, not the offline period.
  ServerState s("a:1");
  s.check_health = CheckHealth::kDown;
  s.consecutive_failures = 3;
  s.last_failure_ns = kNow.count();
  for (const bool panic : {false, true}) {
    EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow, panic), Eligibility::kOffline) << panic;
    EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow + seconds(10) - Nanos(1), panic),
              Eligibility::kOffline)
        << panic;
  }
  // Offline period over: the single trial in panic; without panic the checks still hold it out.
  const Nanos over = kNow + seconds(10);
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, over, /*panic=*/true), Eligibility::kTrial);
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, over, /*panic=*/false), Eligibility::kDownByChecks);
  s.trial_in_progress = true;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, over, /*panic=*/true), Eligibility::kTrialBusy);
}

TEST(Eligibility, PassiveTrackingIsNamedBeforeWhatPanicCanLift) {
  // Explain shows the reason that holds in panic too.
  ServerState s("a:1");
  s.ejected_until_ns = (kNow + seconds(1)).count();
  s.consecutive_failures = 3;
  s.last_failure_ns = kNow.count();
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kOffline);
  s.agent_admin = AgentAdmin::kMaint;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow, true), Eligibility::kAgentMaint);
}

TEST(Eligibility, WhatTheServerOrOperatorSaidWinsOverWhatWasInferred) {
  // Explain shows the reason panic cannot lift, when there is one.
  ServerState s("a:1");
  s.check_health = CheckHealth::kDown;
  s.ejected_until_ns = (kNow + seconds(1)).count();
  s.agent_admin = AgentAdmin::kDrain;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kAgentDrain);
  s.agent_admin = AgentAdmin::kReady;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kDownByChecks);
  s.check_health = CheckHealth::kUp;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kEjected);
}

TEST(Eligibility, EjectionEndsOnTimeWithoutASweep) {
  ServerState s("a:1");
  s.ejected_until_ns = (kNow + seconds(1)).count();
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow + seconds(1) - Nanos(1)), Eligibility::kEjected);
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow + seconds(1)), Eligibility::kEligible);
}

TEST(Eligibility, AgentMaxconnFollowsActiveConnections) {
  ServerState s("a:1");
  s.agent_maxconn = 3;
  s.active_connections = 2;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kEligible);
  s.active_connections = 3;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kAgentMaxconn);
  s.agent_maxconn = 0;  // No limit.
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kEligible);
}

TEST(Eligibility, AgentWordsThatKeepTheServerIn) {
  ServerState s("a:1");
  s.agent_health = AgentHealth::kUp;
  s.agent_weight_percent = 250;  // Above 100 is stored as said; still eligible.
  s.agent_load = 100;
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kEligible);
  s.agent_health = AgentHealth::kUnknown;  // Silent without require_response.
  EXPECT_EQ(evaluate({"a:1"}, s, kPassive, kNow), Eligibility::kEligible);
}

TEST(Eligibility, EveryReasonHasItsOwnText) {
  std::set<std::string> texts;
  for (int e = 0; e <= static_cast<int>(Eligibility::kEjected); ++e) {
    const std::string_view text = to_string(static_cast<Eligibility>(e));
    EXPECT_NE(text, "unknown") << e;
    texts.emplace(text);
  }
  EXPECT_EQ(texts.size(), static_cast<std::size_t>(Eligibility::kEjected) + 1);
}

// Every policy, through Candidates: a member ineligible in any new way is never picked, and a
// panicking pick may take one whose reason was inferred.
class EveryPolicy : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryPolicy, NeverPicksAMemberTheNewReasonsExclude) {
  for (const Way& way : ways()) {
    testing::PolicyHarness h(GetParam(), {1, 1, 1, 1}, kPassive);
    h.clock().set(kNow);
    for (std::size_t i = 0; i < 3; ++i) way.apply(h.state(i));
    FastRng rng(11);
    FastRng keys(12);
    for (int k = 0; k < 200; ++k) {
      EXPECT_EQ(h.pick(rng, keys.next()), 3u) << way.name;
    }
  }
}

TEST_P(EveryPolicy, PanicPicksMembersOutOnlyByInference) {
  testing::PolicyHarness h(GetParam(), {1, 1}, kPassive);
  h.clock().set(kNow);
  h.state(0).check_health = CheckHealth::kDown;
  h.state(1).agent_admin = AgentAdmin::kMaint;
  FastRng rng(3);
  Candidates normal(h.members(), kPassive, kNow, nullptr);
  EXPECT_EQ(h.policy().pick(PickRequest{normal, rng, 5}), kNoPick);
  Candidates panicking(h.members(), kPassive, kNow, nullptr, {.panic = true});
  EXPECT_EQ(h.policy().pick(PickRequest{panicking, rng, 5}), 0u);
}

INSTANTIATE_TEST_SUITE_P(All, EveryPolicy, ::testing::ValuesIn(PolicyRegistry::builtin().names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fulcrum::core
