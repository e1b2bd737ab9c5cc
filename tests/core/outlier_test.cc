// Outlier ejection: runs of 5xx and gateway errors, ejection times, the cluster cap, the last
// eligible server, returns by the sweep with slow start, and decay of times ejected.
#include "core/outlier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/cluster_health.h"
#include "core/slow_start.h"
#include "core/try_list.h"

namespace fulcrum::core {
namespace {

using std::chrono::seconds;

HealthOptions outlier_on(uint32_t max_percent = 100) {
  HealthOptions h;
  h.outlier.enabled = true;
  h.outlier.consecutive_5xx = 5;
  h.outlier.consecutive_gateway_errors = 3;
  h.outlier.base_ejection_time = seconds(30);
  h.outlier.max_ejection_time = seconds(100);
  h.outlier.max_ejection_percent = max_percent;
  return h;
}

std::vector<ServerSpec> servers(std::size_t n) {
  std::vector<ServerSpec> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({"s" + std::to_string(i) + ":80"});
  return out;
}

class Outlier : public ::testing::Test {
 protected:
  void make(std::size_t n, HealthOptions health) {
    cluster_ = std::make_unique<Cluster>(
        ClusterOptions{.name = "c", .policy = "round_robin", .passive = {}, .health = health},
        servers(n));
  }
  ServerState& state(std::size_t i) { return *cluster_->state_of("s" + std::to_string(i) + ":80"); }
  /// Reports `count` responses with `status` for server i; returns the last result.
  EjectionResult report(std::size_t i, int status, int count = 1) {
    EjectionResult last;
    for (int k = 0; k < count; ++k)
      last = on_response(state(i), status, *cluster_->snapshot(), now());
    return last;
  }
  Nanos now() const { return clock_.now(); }
  ClusterHealthState& health() { return cluster_->health_state(); }

  ManualClock clock_{Nanos{100'000'000'000}};
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(Outlier, CountsRunsAndResetsOnOtherAnswers) {
  make(3, outlier_on());
  report(0, 500, 2);
  report(0, 503);
  EXPECT_EQ(state(0).consecutive_5xx.load(), 3u);
  EXPECT_EQ(state(0).consecutive_gateway_errors.load(), 1u);
  report(0, 500);  // A 5xx that is not a gateway error ends the gateway run only.
  EXPECT_EQ(state(0).consecutive_5xx.load(), 4u);
  EXPECT_EQ(state(0).consecutive_gateway_errors.load(), 0u);
  report(0, 404);
  EXPECT_EQ(state(0).consecutive_5xx.load(), 0u);
  report(0, 200);
  EXPECT_EQ(state(0).ejected_until_ns.load(), 0);
}

TEST_F(Outlier, ConsecutiveFiveHundredsEject) {
  make(3, outlier_on());
  EXPECT_EQ(report(0, 500, 4).outcome, EjectionOutcome::kNotTriggered);
  const EjectionResult r = report(0, 500);
  EXPECT_EQ(r.outcome, EjectionOutcome::kEjected);
  EXPECT_EQ(r.trigger, EjectionTrigger::kConsecutive5xx);
  EXPECT_EQ(r.consecutive, 5u);
  EXPECT_EQ(r.times_ejected, 1u);
  EXPECT_EQ(r.duration, seconds(30));
  EXPECT_EQ(state(0).ejected_until_ns.load(), (now() + seconds(30)).count());
  EXPECT_EQ(evaluate({"s0:80"}, state(0), {}, now()), Eligibility::kEjected);
  EXPECT_EQ(health().ejected.load(), 1u);
  EXPECT_EQ(health().ejections_total.load(), 1u);
  EXPECT_EQ(state(0).consecutive_5xx.load(), 0u);  // A fresh run after the return.
}

TEST_F(Outlier, GatewayErrorsAndTimeoutsEjectSooner) {
  make(3, outlier_on());
  report(1, 502);
  report(1, 503);
  const EjectionResult r = report(1, 504);  // 504: also how the proxy reports a timeout.
  EXPECT_EQ(r.outcome, EjectionOutcome::kEjected);
  EXPECT_EQ(r.trigger, EjectionTrigger::kConsecutiveGatewayErrors);
  EXPECT_EQ(r.consecutive, 3u);
}

TEST_F(Outlier, ZeroThresholdTurnsATriggerOffAndDisabledTurnsAllOff) {
  HealthOptions h = outlier_on();
  h.outlier.consecutive_gateway_errors = 0;
  make(3, h);
  EXPECT_EQ(report(0, 503, 4).outcome, EjectionOutcome::kNotTriggered);
  EXPECT_EQ(report(0, 503).trigger, EjectionTrigger::kConsecutive5xx);

  h.outlier.enabled = false;
  make(3, h);
  EXPECT_EQ(report(0, 500, 20).outcome, EjectionOutcome::kNotTriggered);
  EXPECT_EQ(state(0).consecutive_5xx.load(), 0u);
  EXPECT_EQ(state(0).ejected_until_ns.load(), 0);
}

TEST_F(Outlier, EjectionTimeGrowsWithTimesEjectedUpToTheMax) {
  make(3, outlier_on());
  const std::vector<Nanos> expected = {seconds(30), seconds(60), seconds(90), seconds(100),
                                       seconds(100)};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    const EjectionResult r = report(0, 503, 3);
    ASSERT_EQ(r.outcome, EjectionOutcome::kEjected) << k;
    EXPECT_EQ(r.times_ejected, k + 1);
    EXPECT_EQ(r.duration, expected[k]);
    // Answers of requests already in flight meanwhile do not extend it.
    EXPECT_EQ(report(0, 503, 3).outcome, EjectionOutcome::kAlreadyEjected);
    clock_.advance(r.duration);
    const SweepResult swept = sweep(*cluster_->snapshot(), now());
    ASSERT_EQ(swept.returned.size(), 1u);
    EXPECT_EQ(swept.returned[0].address, "s0:80");
    EXPECT_EQ(swept.returned[0].times_ejected, k + 1);
  }
  EXPECT_EQ(health().ejected.load(), 0u);
  EXPECT_EQ(health().returns_total.load(), expected.size());
}

TEST_F(Outlier, AnEjectionOverButNotYetSweptCanBeRenewed) {
  make(3, outlier_on());
  report(0, 503, 3);
  clock_.advance(seconds(30));
  EXPECT_EQ(evaluate({"s0:80"}, state(0), {}, now()), Eligibility::kEligible);
  const EjectionResult r = report(0, 503, 3);
  EXPECT_EQ(r.outcome, EjectionOutcome::kEjected);
  EXPECT_EQ(r.times_ejected, 2u);
  EXPECT_EQ(health().ejected.load(), 1u);  // Still the one slot.
}

// Envoy's rule: another ejection is allowed while fewer than max_ejection_percent are ejected,
// so 10% of 3 servers still lets one go, and of 20 servers two.
TEST_F(Outlier, CapAllowsEjectingWhileBelowThePercentage) {
  make(3, outlier_on(10));
  EXPECT_TRUE(report(0, 503, 3).ejected());
  const EjectionResult refused = report(1, 503, 3);
  EXPECT_EQ(refused.outcome, EjectionOutcome::kCapReached);
  EXPECT_EQ(state(1).ejected_until_ns.load(), 0);
  // The run restarts: the next attempt needs a fresh run.
  EXPECT_EQ(report(1, 503).outcome, EjectionOutcome::kNotTriggered);

  make(20, outlier_on(10));
  EXPECT_TRUE(report(0, 503, 3).ejected());
  EXPECT_TRUE(report(1, 503, 3).ejected());
  EXPECT_EQ(report(2, 503, 3).outcome, EjectionOutcome::kCapReached);
  EXPECT_EQ(health().ejected.load(), 2u);

  make(20, outlier_on(0));
  EXPECT_EQ(report(0, 503, 3).outcome, EjectionOutcome::kCapReached);
}

TEST_F(Outlier, NeverTheLastEligibleServer) {
  make(3, outlier_on(100));
  state(2).admin_state = AdminState::kDisabled;
  EXPECT_TRUE(report(0, 500, 5).ejected());
  const EjectionResult r = report(1, 500, 5);
  EXPECT_EQ(r.outcome, EjectionOutcome::kLastEligible);
  EXPECT_EQ(state(1).ejected_until_ns.load(), 0);
  EXPECT_EQ(state(1).times_ejected.load(), 0u);
  EXPECT_EQ(health().ejected.load(), 1u);
}

TEST_F(Outlier, BackupsCountAsOtherEligibleServers) {
  cluster_ = std::make_unique<Cluster>(
      ClusterOptions{.name = "c", .policy = "round_robin", .passive = {}, .health = outlier_on()},
      std::vector<ServerSpec>{{"s0:80"}, {"s1:80", 1, true}});
  EXPECT_TRUE(report(0, 500, 5).ejected());
  EXPECT_EQ(report(1, 500, 5).outcome, EjectionOutcome::kLastEligible);
}

TEST_F(Outlier, ReturnStartsSlowStartWhenTheEjectionEnds) {
  HealthOptions h = outlier_on();
  h.slow_start = seconds(10);
  make(3, h);
  const Nanos ejected_at = now();
  report(0, 503, 3);
  EXPECT_EQ(state(0).warming_since_ns.load(), (ejected_at + seconds(30)).count());
  clock_.set(ejected_at + seconds(30) + seconds(5));  // The sweep is late; the ramp is not.
  EXPECT_EQ(sweep(*cluster_->snapshot(), now()).returned.size(), 1u);
  EXPECT_NEAR(static_cast<double>(admission_factor(state(0), now(), h)) / kFullAdmission, 0.55,
              1e-4);
}

TEST_F(Outlier, TimesEjectedDecaysWhileInService) {
  make(3, outlier_on());
  const Nanos t0 = now();
  sweep(*cluster_->snapshot(), t0);  // Starts the decay clock: every 30 s from here.
  report(0, 503, 3);
  clock_.set(t0 + seconds(30));
  EXPECT_EQ(sweep(*cluster_->snapshot(), now()).returned.size(), 1u);
  EXPECT_EQ(state(0).times_ejected.load(), 1u);  // Not on the tick it returns.
  clock_.set(t0 + seconds(60));
  sweep(*cluster_->snapshot(), now());
  EXPECT_EQ(state(0).times_ejected.load(), 0u);
  EXPECT_EQ(report(0, 503, 3).duration, seconds(30));  // Back to the base time.
}

TEST_F(Outlier, ServerLeavingTheClusterFreesItsSlot) {
  make(3, outlier_on(10));
  const SnapshotPtr old = cluster_->snapshot();
  auto s0 = cluster_->state_of("s0:80");
  EXPECT_TRUE(report(0, 503, 3).ejected());
  ASSERT_TRUE(cluster_->remove_server("s0:80"));
  EXPECT_EQ(health().ejected.load(), 0u);
  EXPECT_EQ(s0->ejected_until_ns.load(), kEjectionRetired);
  // A request still on the old snapshot cannot eject it again and take a slot for nothing.
  clock_.advance(seconds(60));
  for (int k = 0; k < 6; ++k) on_response(*s0, 503, *old, now());
  EXPECT_EQ(health().ejected.load(), 0u);
  EXPECT_TRUE(report(1, 503, 3).ejected());  // The slot is free for the others.
}

TEST_F(Outlier, TryListReportsResponses) {
  cluster_ = std::make_unique<Cluster>(
      ClusterOptions{.name = "c", .policy = "first_available", .health = outlier_on()}, servers(2));
  FastRng rng(1);
  std::vector<EjectionOutcome> outcomes;
  for (int k = 0; k < 3; ++k) {
    TryList tries(cluster_->snapshot(), clock_, rng, 1);
    const Pick p = tries.next();
    ASSERT_EQ(p.member->spec.address, "s0:80");
    const EjectionResult r = tries.report_response(p, 504);
    outcomes.push_back(r.outcome);
    if (r.ejected()) {
      EXPECT_EQ(r.trigger, EjectionTrigger::kConsecutiveGatewayErrors);
    }
  }
  EXPECT_EQ(outcomes, (std::vector<EjectionOutcome>{EjectionOutcome::kNotTriggered,
                                                    EjectionOutcome::kNotTriggered,
                                                    EjectionOutcome::kEjected}));
  TryList tries(cluster_->snapshot(), clock_, rng, 1);
  EXPECT_EQ(tries.next().member->spec.address, "s1:80");
}

TEST(OutlierText, EveryOutcomeAndTriggerHasText) {
  for (auto o :
       {EjectionOutcome::kNotTriggered, EjectionOutcome::kEjected, EjectionOutcome::kAlreadyEjected,
        EjectionOutcome::kCapReached, EjectionOutcome::kLastEligible}) {
    EXPECT_NE(to_string(o), "unknown");
  }
  EXPECT_EQ(to_string(EjectionTrigger::kConsecutive5xx), "consecutive 5xx");
  EXPECT_EQ(to_string(EjectionTrigger::kConsecutiveGatewayErrors), "consecutive gateway errors");
}

}  // namespace
}  // namespace fulcrum::core
