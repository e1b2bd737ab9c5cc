// Outcomes of the simulator running the real core: balancing, passive failure detection with its
// offline timeout and single trial, retries absorbing failures, backups, agent and admin states.
#include "sim/simulation.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>

namespace fulcrum::sim {
namespace {

using namespace std::chrono_literals;
using core::Nanos;

ClusterConfig make_cluster(const std::string& policy, std::size_t primaries,
                           std::size_t backups = 0, uint32_t retries = 2,
                           core::PassiveOptions passive = {3, 10s}) {
  ClusterConfig c;
  c.name = "test";
  c.policy = policy;
  c.retries = retries;
  c.passive = passive;
  for (std::size_t i = 0; i < primaries + backups; ++i) {
    c.servers.push_back({"s" + std::to_string(i), 1, i >= primaries});
  }
  return c;
}

/// `requests` at 100/s: one every 10ms.
Scenario make_scenario(uint64_t requests, std::vector<Event> events = {}) {
  Scenario s;
  s.requests = requests;
  s.rate = 100;
  s.events = std::move(events);
  return s;
}

SimulationResult run(const ClusterConfig& c, const Scenario& s) {
  return simulate(c, s, SimulationOptions{.record_attempts = true});
}

std::vector<Attempt> attempts_on(const SimulationResult& r, std::size_t server) {
  std::vector<Attempt> out;
  for (const auto& a : r.attempts) {
    if (a.server == server) out.push_back(a);
  }
  return out;
}

uint64_t served_between(const SimulationResult& r, std::size_t server, Nanos from, Nanos to) {
  uint64_t n = 0;
  for (const auto& a : r.attempts) {
    if (a.server == server && !a.failed && a.at >= from && a.at < to) ++n;
  }
  return n;
}

TEST(Simulation, RoundRobinSplitsEvenlyOverHealthyServers) {
  const auto r = run(make_cluster("round_robin", 3), make_scenario(3000));
  for (const auto& s : r.servers) EXPECT_EQ(s.served, 1000u) << s.address;
  EXPECT_EQ(r.succeeded, 3000u);
  EXPECT_EQ(r.failed_outright(), 0u);
  EXPECT_EQ(r.retries, 0u);
  EXPECT_TRUE(r.timeline.empty());
}

TEST(Simulation, FailedServerIsDetectedAfterExactlyAttemptsFailuresThenGetsOneTrialPerTimeout) {
  // s1 fails at 1s and never recovers.
  const auto r = run(make_cluster("round_robin", 3),
                     make_scenario(3000, {{.at = 1s, .server = 1, .action = Action::kFail}}));
  const auto on_s1 = attempts_on(r, 1);
  const auto first_failure =
      std::find_if(on_s1.begin(), on_s1.end(), [](const Attempt& a) { return a.failed; });
  ASSERT_NE(first_failure, on_s1.end());
  EXPECT_GE(first_failure->at, 1s);
  // Every attempt before the failure succeeded; the three after it were refused, none a trial.
  for (auto it = on_s1.begin(); it != first_failure; ++it) EXPECT_LT(it->at, 1s);
  ASSERT_GE(on_s1.end() - first_failure, 4);
  for (int k = 0; k < 3; ++k) {
    EXPECT_TRUE(first_failure[k].failed);
    EXPECT_FALSE(first_failure[k].trial);
  }
  ASSERT_FALSE(r.servers[1].outages.empty());
  const Outage& outage = r.servers[1].outages.front();
  EXPECT_EQ(outage.detected, first_failure[2].at);

  // Nothing until the offline timeout has passed; then a single trial, which fails, then nothing
  // for another timeout. Round robin reaches s1 within 3 requests (30ms) of it becoming eligible.
  const Attempt& trial = first_failure[3];
  EXPECT_TRUE(trial.trial);
  EXPECT_TRUE(trial.failed);
  EXPECT_GE(trial.at, outage.detected + 10s);
  EXPECT_LE(trial.at, outage.detected + 10s + 30ms);
  ASSERT_GE(on_s1.end() - first_failure, 5);
  const Attempt& second_trial = first_failure[4];
  EXPECT_TRUE(second_trial.trial);
  EXPECT_GE(second_trial.at, trial.at + 10s);
  EXPECT_LE(second_trial.at, trial.at + 10s + 30ms);
  EXPECT_EQ(on_s1.end() - first_failure, 5);  // 30s run: no third trial fits.
  EXPECT_EQ(outage.failed_trials, 2u);
  EXPECT_FALSE(outage.returned.has_value());

  // Every refusal was absorbed by a retry on a healthy server.
  EXPECT_EQ(r.servers[1].failed_attempts, 5u);
  EXPECT_EQ(r.servers[1].absorbed, 5u);
  EXPECT_EQ(r.retries, 5u);
  EXPECT_EQ(r.failed_outright(), 0u);
  EXPECT_EQ(r.succeeded, 3000u);
}

TEST(Simulation, TrafficReturnsAfterRecoveryAndSuccessfulTrial) {
  const auto r = run(make_cluster("round_robin", 3),
                     make_scenario(3000, {{.at = 1s, .server = 1, .action = Action::kFail},
                                          {.at = 5s, .server = 1, .action = Action::kRecover}}));
  ASSERT_EQ(r.servers[1].outages.size(), 1u);
  const Outage& outage = r.servers[1].outages.front();
  ASSERT_TRUE(outage.returned.has_value());
  EXPECT_EQ(outage.failed_trials, 0u);
  // Recovered at 5s but only found out at the first trial after the timeout.
  EXPECT_GE(*outage.returned, outage.detected + 10s);
  EXPECT_LE(*outage.returned, outage.detected + 10s + 30ms);
  EXPECT_EQ(served_between(r, 1, outage.detected, *outage.returned), 0u);
  // Afterwards it takes its round robin third again (±1 for where the cursor stood).
  const Nanos end = 30s;
  const auto after = served_between(r, 1, *outage.returned, end);
  const auto requests_after = static_cast<double>((end - *outage.returned) / 10ms);
  EXPECT_NEAR(static_cast<double>(after), requests_after / 3, 1.0);
  EXPECT_EQ(r.failed_outright(), 0u);
}

TEST(Simulation, NoRequestFailsWhileAnotherServerIsEligible) {
  // Four servers; failures overlap but one always stays healthy. retries = 3 lets a request
  // reach every server.
  const auto r = run(make_cluster("round_robin", 4, 0, 3),
                     make_scenario(4000, {{.at = 1s, .server = 0, .action = Action::kFail},
                                          {.at = 2s, .server = 1, .action = Action::kFail},
                                          {.at = 3s, .server = 2, .action = Action::kFail},
                                          {.at = 6s, .server = 0, .action = Action::kRecover},
                                          {.at = 25s, .server = 1, .action = Action::kRecover},
                                          {.at = 30s, .server = 3, .action = Action::kFail},
                                          {.at = 31s, .server = 2, .action = Action::kRecover}}));
  EXPECT_EQ(r.failed_outright(), 0u);
  EXPECT_EQ(r.succeeded, 4000u);
  uint64_t refused = 0;
  for (const auto& s : r.servers) refused += s.failed_attempts;
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(r.retries, refused);
}

TEST(Simulation, RequestsFailOnlyWhileEveryServerIsOut) {
  // retries = 3 for 3 servers: the retry budget can never run out first.
  const auto r = run(make_cluster("round_robin", 3, 0, 3),
                     make_scenario(2000, {{.at = 2s, .server = 0, .action = Action::kFail},
                                          {.at = 2s, .server = 1, .action = Action::kFail},
                                          {.at = 2s, .server = 2, .action = Action::kFail},
                                          {.at = 4s, .server = 2, .action = Action::kRecover}}));
  EXPECT_EQ(r.failed_exhausted, 0u);
  EXPECT_GT(r.failed_no_server, 0u);
  EXPECT_EQ(r.succeeded + r.failed_outright(), 2000u);
  // Each server goes offline once; s2 returns at its first trial after recovering.
  ASSERT_EQ(r.servers[2].outages.size(), 1u);
  ASSERT_TRUE(r.servers[2].outages[0].returned.has_value());
  const Nanos back = *r.servers[2].outages[0].returned;
  const auto mentions = [&](const std::string& text) {
    return std::any_of(r.timeline.begin(), r.timeline.end(), [&](const TimelineEntry& e) {
      return e.text.find(text) != std::string::npos;
    });
  };
  EXPECT_TRUE(mentions("requests start failing outright: no eligible server"));
  EXPECT_TRUE(
      mentions(fmt::format("requests succeed again after {} failed outright", r.failed_no_server)));
  // Requests before the failure and after s2's return all succeeded.
  std::map<uint64_t, bool> served;
  for (const auto& a : r.attempts) served[a.request] = served[a.request] || !a.failed;
  for (uint64_t i = 0; i < 2000; ++i) {
    const Nanos at = i * 10ms;
    if (at < 2s || at >= back) {
      EXPECT_TRUE(served[i]) << "request " << i;
    }
  }
}

TEST(Simulation, BackupServesOnlyWhileEveryPrimaryIsDown) {
  const auto r = run(make_cluster("round_robin", 2, 1),
                     make_scenario(2000, {{.at = 1s, .server = 0, .action = Action::kFail},
                                          {.at = 1s, .server = 1, .action = Action::kFail},
                                          {.at = 3s, .server = 0, .action = Action::kRecover},
                                          {.at = 3s, .server = 1, .action = Action::kRecover}}));
  ASSERT_EQ(r.servers[0].outages.size(), 1u);
  ASSERT_EQ(r.servers[1].outages.size(), 1u);
  ASSERT_TRUE(r.servers[0].outages[0].returned && r.servers[1].outages[0].returned);
  const Nanos first_primary_back =
      std::min(*r.servers[0].outages[0].returned, *r.servers[1].outages[0].returned);
  const auto on_backup = attempts_on(r, 2);
  ASSERT_FALSE(on_backup.empty());
  for (const auto& a : on_backup) {
    EXPECT_GE(a.at, 1s);
    EXPECT_LT(a.at, first_primary_back);
  }
  EXPECT_EQ(r.servers[2].served, on_backup.size());
  EXPECT_EQ(r.failed_outright(), 0u);
}

void expect_agent_unavailable_gets_nothing(const std::string& policy) {
  const auto r = run(
      make_cluster(policy, 3),
      make_scenario(
          3000,
          {{.at = 1s, .server = 2, .action = Action::kAgentLoad, .value = core::kAgentUnavailable},
           {.at = 2s, .server = 2, .action = Action::kAgentLoad, .value = 50}}));
  EXPECT_EQ(served_between(r, 2, 1s, 2s), 0u) << policy;
  EXPECT_GT(served_between(r, 2, 0s, 1s), 0u) << policy;
  EXPECT_GT(served_between(r, 2, 2s, 30s), 0u) << policy;
  EXPECT_EQ(r.failed_outright(), 0u) << policy;
}

TEST(Simulation, AgentUnavailableGetsNothing) {
  expect_agent_unavailable_gets_nothing("agent");
  expect_agent_unavailable_gets_nothing("round_robin");
}

TEST(Simulation, AdminStatesAndWeightZeroStopNewRequests) {
  const auto r =
      run(make_cluster("round_robin", 3),
          make_scenario(1000, {{.at = 1s, .server = 0, .action = Action::kDrain},
                               {.at = 2s, .server = 0, .action = Action::kEnable},
                               {.at = 3s, .server = 1, .action = Action::kDisable},
                               {.at = 4s, .server = 1, .action = Action::kEnable},
                               {.at = 5s, .server = 2, .action = Action::kWeight},
                               {.at = 6s, .server = 2, .action = Action::kWeight, .value = 1}}));
  EXPECT_EQ(served_between(r, 0, 1s, 2s), 0u);
  EXPECT_EQ(served_between(r, 1, 3s, 4s), 0u);
  EXPECT_EQ(served_between(r, 2, 5s, 6s), 0u);
  for (std::size_t s = 0; s < 3; ++s) EXPECT_GT(served_between(r, s, 6s, 10s), 100u) << s;
  EXPECT_EQ(r.failed_outright(), 0u);
  EXPECT_EQ(r.timeline.size(), 6u);
}

TEST(Simulation, WithoutPassiveTrackingAFailedServerIsTriedEveryTime) {
  const auto r = run(make_cluster("round_robin", 3, 0, 2, {3, 0s}),
                     make_scenario(600, {{.at = 1s, .server = 1, .action = Action::kFail}}));
  EXPECT_TRUE(r.servers[1].outages.empty());
  // 500 requests after 1s; round robin's shared cursor reaches s1 on about every other one of
  // them, since each refusal also advances it. Well over the 3 that passive tracking would allow.
  EXPECT_GT(r.servers[1].failed_attempts, 100u);
  EXPECT_EQ(r.servers[1].absorbed, r.servers[1].failed_attempts);
  EXPECT_EQ(r.failed_outright(), 0u);
}

TEST(Simulation, RetryBudgetExhaustedIsReportedAsSuch) {
  // No retries: every request that lands on the failed server fails, until passive tracking
  // takes it out after 3 of them.
  const auto r = run(make_cluster("round_robin", 3, 0, 0),
                     make_scenario(300, {{.at = 1s, .server = 0, .action = Action::kFail}}));
  EXPECT_EQ(r.failed_exhausted, 3u);
  EXPECT_EQ(r.failed_no_server, 0u);
  EXPECT_EQ(r.servers[0].absorbed, 0u);
  EXPECT_EQ(r.retries, 0u);
}

TEST(Simulation, WindowsAddUpToServed) {
  const auto r = simulate(make_cluster("round_robin", 3), make_scenario(3000),
                          SimulationOptions{.window = 1s});
  EXPECT_EQ(r.window, 1s);
  for (const auto& s : r.servers) {
    ASSERT_EQ(s.served_per_window.size(), 30u);
    uint64_t total = 0;
    for (auto n : s.served_per_window) total += n;
    EXPECT_EQ(total, s.served);
  }
  EXPECT_TRUE(r.attempts.empty());  // Not recorded unless asked.
}

TEST(Simulation, AutomaticWindowIsRoundAndGivesAtLeastTen) {
  // 3000 requests at 100/s span 29.99s: 2s windows (5s would give only 6).
  const auto r = simulate(make_cluster("round_robin", 3), make_scenario(3000));
  EXPECT_EQ(r.window, 2s);
  EXPECT_EQ(r.servers[0].served_per_window.size(), 15u);
  // A single request spans nothing; the floor is 1ms.
  EXPECT_EQ(simulate(make_cluster("round_robin", 3), make_scenario(1)).window, 1ms);
}

TEST(Simulation, InFlightRequestsSteerLeastConnections) {
  // Arrivals are 10ms apart. s0 holds each request for 100ms, s1 for 1ms. LoadGuards count them in
  // flight, so least_connections gives s0 a request only once its previous one has ended: one in
  // ten. If guards were never released both counts would only grow and the split would be even.
  Scenario s = make_scenario(2000);
  s.latency = {100ms, 1ms};
  const auto r = simulate(make_cluster("least_connections", 2), s);
  EXPECT_EQ(r.servers[0].served, 200u);
  EXPECT_EQ(r.servers[1].served, 1800u);
}

TEST(Simulation, RequestDurationKeepsRequestsInFlightAfterTheFirstByte) {
  // s0 answers in 15ms, s1 in 1ms: both are free again by every other arrival, and equals take
  // turns, so the split is even. 8ms more in flight keeps s0 busy for two arrivals: a third.
  Scenario s = make_scenario(2000);
  s.latency = {15ms, 1ms};
  EXPECT_EQ(simulate(make_cluster("least_connections", 2), s).servers[0].served, 1000u);
  s.request_duration = 8ms;
  EXPECT_NEAR(
      static_cast<double>(simulate(make_cluster("least_connections", 2), s).servers[0].served),
      2000.0 / 3, 1.0);
}

TEST(Simulation, HashPoliciesKeepAKeyOnOneServer) {
  for (const std::string policy : {"ring_hash", "maglev"}) {
    Scenario one_key = make_scenario(500);
    one_key.keys = 1;
    const auto r = simulate(make_cluster(policy, 4), one_key);
    uint64_t most = 0;
    for (const auto& s : r.servers) most = std::max(most, s.served);
    EXPECT_EQ(most, 500u) << policy;

    Scenario many_keys = make_scenario(4000);
    many_keys.keys = 1000;
    for (const auto& s : simulate(make_cluster(policy, 4), many_keys).servers) {
      EXPECT_GT(s.served, 500u) << policy << " " << s.address;
    }
  }
}

TEST(Simulation, SameSeedSameRun) {
  const ClusterConfig c = make_cluster("random", 4);
  Scenario s = make_scenario(2000, {{.at = 3s, .server = 1, .action = Action::kFail}});
  s.seed = 99;
  s.request_duration = 50ms;
  const auto a = run(c, s);
  const auto b = run(c, s);
  ASSERT_EQ(a.attempts.size(), b.attempts.size());
  for (std::size_t i = 0; i < a.attempts.size(); ++i) {
    EXPECT_EQ(a.attempts[i].server, b.attempts[i].server) << i;
    EXPECT_EQ(a.attempts[i].failed, b.attempts[i].failed) << i;
  }
}

}  // namespace
}  // namespace fulcrum::sim
