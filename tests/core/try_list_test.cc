// The per-request try-list and passive tracking's life cycle, step by step on a fake clock.
#include "core/try_list.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/cluster.h"

namespace fulcrum::core {
namespace {

using std::chrono::seconds;

class TryListTest : public ::testing::Test {
 protected:
  Cluster make(std::vector<ServerSpec> servers, PassiveOptions passive = {3, seconds(10)},
               std::string policy = "first_available") {
    return Cluster({.name = "c", .policy = std::move(policy), .passive = passive},
                   std::move(servers));
  }
  std::string first_pick(const Cluster& cluster, uint32_t attempts = 3) {
    TryList tries(cluster.snapshot(), clock_, rng_, attempts);
    Pick p = tries.next();
    return p ? p.member->spec.address : "none";
  }

  ManualClock clock_;
  FastRng rng_{7};
};

TEST_F(TryListTest, YieldsEachServerOnceThenSaysNothingEligible) {
  auto cluster = make({{"a:1"}, {"b:1"}, {"c:1"}});
  TryList tries(cluster.snapshot(), clock_, rng_, 10);
  std::vector<std::string> seen;
  for (Pick p = tries.next(); p; p = tries.next()) seen.push_back(p.member->spec.address);
  EXPECT_EQ(seen, (std::vector<std::string>{"a:1", "b:1", "c:1"}));
  EXPECT_EQ(tries.end_reason(), TryListEnd::kNoEligibleServer);
}

TEST_F(TryListTest, BoundedByAttempts) {
  auto cluster = make({{"a:1"}, {"b:1"}, {"c:1"}});
  TryList tries(cluster.snapshot(), clock_, rng_, 2);
  EXPECT_TRUE(tries.next());
  EXPECT_TRUE(tries.next());
  EXPECT_FALSE(tries.next());
  EXPECT_EQ(tries.end_reason(), TryListEnd::kAttemptsExhausted);
  EXPECT_EQ(tries.attempts(), 2u);
}

// Passive tracking: AttemptsCount consecutive failures make a server offline; it is skipped without
// a connection attempt while now - last_failure < OfflineTimeOut; then one request may try it;
// success resets the count and timestamp.
TEST_F(TryListTest, PassiveTrackingLifeCycle) {
  auto cluster = make({{"a:1"}, {"b:1"}}, {3, seconds(10)});
  auto a = cluster.state_of("a:1");

  // Steps 1-2: each failed connect records time and count, and the request moves to the next
  // server.
  for (int failure = 1; failure <= 3; ++failure) {
    TryList tries(cluster.snapshot(), clock_, rng_, 3);
    Pick first = tries.next();
    ASSERT_EQ(first.member->spec.address, "a:1") << "failure " << failure;
    tries.report_failure(first, FailureCause::kRefused);
    EXPECT_EQ(a->consecutive_failures.load(), static_cast<uint32_t>(failure));
    EXPECT_EQ(a->last_failure_ns.load(), clock_.now().count());
    Pick second = tries.next();
    ASSERT_TRUE(second);
    EXPECT_EQ(second.member->spec.address, "b:1");
    tries.report_success(second, std::chrono::milliseconds(1));
    clock_.advance(seconds(1));
  }
  const Nanos failed_at = clock_.now() - seconds(1);

  // Step 3: offline. Skipped without any attempt until the timeout has passed.
  EXPECT_EQ(evaluate({"a:1"}, *a, cluster.snapshot()->passive, clock_.now()),
            Eligibility::kOffline);
  clock_.set(failed_at + seconds(10) - Nanos(1));
  EXPECT_EQ(first_pick(cluster), "b:1");

  // Timeout over: exactly one request gets the trial; a concurrent one is sent elsewhere.
  clock_.set(failed_at + seconds(10));
  TryList trial(cluster.snapshot(), clock_, rng_, 3);
  Pick t = trial.next();
  ASSERT_EQ(t.member->spec.address, "a:1");
  EXPECT_EQ(first_pick(cluster), "b:1");

  // The trial fails: offline again for a full timeout from now.
  trial.report_failure(t, FailureCause::kTimeout);
  EXPECT_EQ(a->consecutive_failures.load(), 4u);
  clock_.advance(seconds(9));
  EXPECT_EQ(first_pick(cluster), "b:1");
  clock_.advance(seconds(1));

  // The next trial succeeds: count and timestamp reset, back in normal rotation.
  {
    TryList again(cluster.snapshot(), clock_, rng_, 3);
    Pick p = again.next();
    ASSERT_EQ(p.member->spec.address, "a:1");
    again.report_success(p, std::chrono::milliseconds(2));
  }
  EXPECT_EQ(a->consecutive_failures.load(), 0u);
  EXPECT_EQ(a->last_failure_ns.load(), 0);
  EXPECT_EQ(a->trial_in_progress.load(), false);
  EXPECT_EQ(first_pick(cluster), "a:1");
  EXPECT_EQ(first_pick(cluster), "a:1");
}

TEST_F(TryListTest, AbandonedTrialIsReleasedForTheNextRequest) {
  auto cluster = make({{"a:1"}, {"b:1"}}, {1, seconds(5)});
  {
    TryList tries(cluster.snapshot(), clock_, rng_, 3);
    tries.report_failure(tries.next(), FailureCause::kRefused);
  }
  clock_.advance(seconds(5));
  {
    TryList trial(cluster.snapshot(), clock_, rng_, 3);
    EXPECT_EQ(trial.next().member->spec.address, "a:1");
    // Destroyed without a verdict (say the client went away).
  }
  EXPECT_EQ(first_pick(cluster), "a:1");
}

TEST_F(TryListTest, ZeroOfflineTimeoutTurnsTrackingOff) {
  auto cluster = make({{"a:1"}, {"b:1"}}, {1, Nanos(0)});
  for (int i = 0; i < 5; ++i) {
    TryList tries(cluster.snapshot(), clock_, rng_, 3);
    Pick p = tries.next();
    ASSERT_EQ(p.member->spec.address, "a:1");
    tries.report_failure(p, FailureCause::kRefused);
  }
  EXPECT_EQ(cluster.state_of("a:1")->consecutive_failures.load(), 0u);
  EXPECT_EQ(cluster.state_of("a:1")->failures_total.load(), 5u);
  EXPECT_EQ(first_pick(cluster), "a:1");
}

TEST_F(TryListTest, EveryConnectPhaseCauseIsAConnectFailure) {
  for (const FailureCause cause :
       {FailureCause::kNameLookup, FailureCause::kRefused, FailureCause::kTimeout,
        FailureCause::kUnreachable, FailureCause::kReset}) {
    EXPECT_EQ(kind_of(cause), FailureKind::kConnectFailure) << static_cast<int>(cause);
  }
  EXPECT_EQ(kind_of(FailureCause::kClosedBeforeResponse), FailureKind::kResetBeforeResponse);
  EXPECT_EQ(kind_of(FailureCause::kResponseTimeout), FailureKind::kResponseTimeout);
}

// passive.count: by default only connect failures take a server offline; a server that took the
// request and then closed or hung is left to active checks and outlier ejection.
TEST_F(TryListTest, PassiveCountsOnlyTheKindsItIsGiven) {
  auto lenient = make({{"a:1"}, {"b:1"}}, {1, seconds(10)});
  auto a = lenient.state_of("a:1");
  for (const FailureCause cause :
       {FailureCause::kClosedBeforeResponse, FailureCause::kResponseTimeout}) {
    TryList tries(lenient.snapshot(), clock_, rng_, 3);
    Pick p = tries.next();
    ASSERT_EQ(p.member->spec.address, "a:1");
    tries.report_failure(p, cause);
    EXPECT_EQ(a->consecutive_failures.load(), 0u) << static_cast<int>(cause);
  }
  EXPECT_EQ(a->failures_total.load(), 0u);  // Its metric counts connect failures only.
  EXPECT_EQ(first_pick(lenient), "a:1");

  const PassiveOptions counting_timeouts{
      1, seconds(10), {FailureKind::kConnectFailure, FailureKind::kResponseTimeout}};
  auto strict = make({{"a:1"}, {"b:1"}}, counting_timeouts);
  auto strict_a = strict.state_of("a:1");
  {
    TryList tries(strict.snapshot(), clock_, rng_, 3);
    tries.report_failure(tries.next(), FailureCause::kClosedBeforeResponse);  // Not listed.
  }
  EXPECT_EQ(first_pick(strict), "a:1");
  {
    TryList tries(strict.snapshot(), clock_, rng_, 3);
    tries.report_failure(tries.next(), FailureCause::kResponseTimeout);
  }
  EXPECT_EQ(strict_a->consecutive_failures.load(), 1u);
  EXPECT_EQ(first_pick(strict), "b:1");
}

TEST_F(TryListTest, AFailureLeftUncountedEndsTheTrialWithoutAVerdict) {
  auto cluster = make({{"a:1"}, {"b:1"}}, {1, seconds(5)});
  auto a = cluster.state_of("a:1");
  {
    TryList tries(cluster.snapshot(), clock_, rng_, 3);
    tries.report_failure(tries.next(), FailureCause::kRefused);
  }
  clock_.advance(seconds(5));
  TryList trial(cluster.snapshot(), clock_, rng_, 3);
  Pick t = trial.next();
  ASSERT_EQ(t.member->spec.address, "a:1");
  EXPECT_TRUE(a->trial_in_progress.load());
  trial.report_failure(t, FailureCause::kResponseTimeout);  // Connected, then hung.
  EXPECT_FALSE(a->trial_in_progress.load());
  EXPECT_EQ(a->consecutive_failures.load(), 1u);
  // Neither back in rotation nor offline again: the next request may try it.
  EXPECT_EQ(first_pick(cluster), "a:1");
}

TEST_F(TryListTest, BackupServesOnlyWhenNoPrimaryIsEligible) {
  auto cluster = make({{"a:1"}, {"backup:1", 1, true}, {"b:1"}}, {1, seconds(10)}, "round_robin");
  for (int i = 0; i < 20; ++i) EXPECT_NE(first_pick(cluster), "backup:1");

  cluster.state_of("a:1")->check_health = CheckHealth::kDown;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(first_pick(cluster), "b:1");

  cluster.state_of("b:1")->admin_state = AdminState::kDisabled;
  EXPECT_EQ(first_pick(cluster), "backup:1");

  cluster.state_of("a:1")->check_health = CheckHealth::kUp;
  EXPECT_EQ(first_pick(cluster), "a:1");
}

TEST_F(TryListTest, RetriesMoveToBackupAfterPrimariesFail) {
  auto cluster = make({{"a:1"}, {"backup:1", 1, true}});
  TryList tries(cluster.snapshot(), clock_, rng_, 3);
  Pick p = tries.next();
  EXPECT_EQ(p.member->spec.address, "a:1");
  tries.report_failure(p, FailureCause::kRefused);
  p = tries.next();
  ASSERT_TRUE(p);
  EXPECT_EQ(p.member->spec.address, "backup:1");
  EXPECT_EQ(p.tier, TierKind::kBackup);
}

TEST_F(TryListTest, AllDownSaysNoEligibleServerWithoutLooping) {
  auto cluster = make({{"a:1"}, {"b:1"}, {"c:1", 1, true}});
  for (const char* address : {"a:1", "b:1", "c:1"}) {
    cluster.state_of(address)->check_health = CheckHealth::kDown;
  }
  TryList tries(cluster.snapshot(), clock_, rng_, 100);
  EXPECT_FALSE(tries.next());
  EXPECT_EQ(tries.end_reason(), TryListEnd::kNoEligibleServer);
  EXPECT_EQ(tries.attempts(), 0u);
}

TEST_F(TryListTest, SuccessFeedsLatencyEwma) {
  auto cluster = make({{"a:1"}});
  auto a = cluster.state_of("a:1");
  TryList tries(cluster.snapshot(), clock_, rng_, 1);
  Pick p = tries.next();
  tries.report_success(p, std::chrono::microseconds(800));
  EXPECT_EQ(a->latency_ewma_ns.load(), 800'000);
  EXPECT_EQ(cluster.health_state().typical_latency_ns.load(), 800'000);
  // Peak-EWMA: a slower sample replaces the estimate at once, a faster one moves it 1/8 of the
  // way; the cluster's typical latency takes 1/16 of each.
  tries.report_success(p, std::chrono::microseconds(1600));
  EXPECT_EQ(a->latency_ewma_ns.load(), 1'600'000);
  EXPECT_EQ(cluster.health_state().typical_latency_ns.load(), 800'000 + 800'000 / 16);
  tries.report_success(p, std::chrono::microseconds(800));
  EXPECT_EQ(a->latency_ewma_ns.load(), 1'600'000 - 800'000 / 8);
  EXPECT_EQ(a->latency_sampled_ns.load(), clock_.now().count());
}

TEST_F(TryListTest, LoadGuardCountsWhileAlive) {
  auto cluster = make({{"a:1"}});
  auto a = cluster.state_of("a:1");
  TryList tries(cluster.snapshot(), clock_, rng_, 1);
  Pick p = tries.next();
  {
    LoadGuard connection(tries.snapshot(), p, LoadKind::kConnection);
    LoadGuard request(tries.snapshot(), p, LoadKind::kRequest);
    EXPECT_EQ(a->active_connections.load(), 1);
    EXPECT_EQ(a->in_flight.load(), 2);
    LoadGuard moved = std::move(request);
    EXPECT_EQ(a->in_flight.load(), 2);
  }
  EXPECT_EQ(a->active_connections.load(), 0);
  EXPECT_EQ(a->in_flight.load(), 0);
}

}  // namespace
}  // namespace fulcrum::core
