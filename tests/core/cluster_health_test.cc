// Panic mode as the sweep decides it and as try-lists then pick.
#include "core/cluster_health.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/try_list.h"

namespace fulcrum::core {
namespace {

using std::chrono::seconds;

class Panic : public ::testing::Test {
 protected:
  void make(std::vector<ServerSpec> specs, uint32_t threshold = 50) {
    HealthOptions health;
    health.panic_threshold = threshold;
    cluster_ = std::make_unique<Cluster>(
        ClusterOptions{
            .name = "c", .policy = "round_robin", .passive = {3, seconds(10)}, .health = health},
        std::move(specs));
  }
  static std::vector<ServerSpec> primaries(std::size_t n) {
    std::vector<ServerSpec> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back({"s" + std::to_string(i) + ":80"});
    return out;
  }
  ServerState& state(const std::string& address) { return *cluster_->state_of(address); }
  SweepResult run_sweep() { return sweep(*cluster_->snapshot(), clock_.now()); }
  /// Addresses picked first by `n` try-lists.
  std::set<std::string> picked(int n = 40) {
    std::set<std::string> out;
    for (int k = 0; k < n; ++k) {
      TryList tries(cluster_->snapshot(), clock_, rng_, 1);
      const Pick p = tries.next();
      out.insert(p ? p.member->spec.address : "none");
    }
    return out;
  }

  ManualClock clock_{Nanos{100'000'000'000}};
  FastRng rng_{9};
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(Panic, BelowTheThresholdBalancesOverServersOutByInference) {
  make(primaries(4));
  state("s0:80").check_health = CheckHealth::kDown;
  state("s1:80").ejected_until_ns = (clock_.now() + seconds(30)).count();
  EXPECT_FALSE(run_sweep().panic);  // 2 of 4 healthy: 50% is not below 50%.
  EXPECT_EQ(picked(), (std::set<std::string>{"s2:80", "s3:80"}));

  state("s2:80").agent_health = AgentHealth::kSilent;
  const SweepResult r = run_sweep();
  EXPECT_TRUE(r.panic);
  EXPECT_TRUE(r.panic_changed);
  EXPECT_EQ(r.considered, 4u);
  EXPECT_EQ(r.healthy, 1u);
  EXPECT_TRUE(cluster_->health_state().panic.load());
  EXPECT_EQ(cluster_->health_state().panic_entered_total.load(), 1u);
  EXPECT_EQ(picked(), (std::set<std::string>{"s0:80", "s1:80", "s2:80", "s3:80"}));

  EXPECT_FALSE(run_sweep().panic_changed);  // Still in panic: counted once.
  EXPECT_EQ(cluster_->health_state().panic_entered_total.load(), 1u);

  state("s0:80").check_health = CheckHealth::kUp;
  state("s2:80").agent_health = AgentHealth::kUp;
  const SweepResult calm = run_sweep();
  EXPECT_FALSE(calm.panic);
  EXPECT_TRUE(calm.panic_changed);
  EXPECT_EQ(picked(), (std::set<std::string>{"s0:80", "s2:80", "s3:80"}));
}

TEST_F(Panic, PassivelyOfflineServersStayOfflineInPanicUntilTheirTrial) {
  make(primaries(3));
  const Nanos failed_at = clock_.now();
  for (const char* a : {"s0:80", "s1:80"}) {
    state(a).consecutive_failures = 3;
    state(a).last_failure_ns = failed_at.count();
  }
  // Offline counts as unhealthy (the survivor carries the load): 1 of 3 is panic...
  const SweepResult r = run_sweep();
  EXPECT_TRUE(r.panic);
  EXPECT_EQ(r.considered, 3u);
  EXPECT_EQ(r.healthy, 1u);
  // ...but panic cannot bring them back before offline_timeout.
  EXPECT_EQ(picked(), (std::set<std::string>{"s2:80"}));
  clock_.set(failed_at + seconds(10) - Nanos(1));
  EXPECT_EQ(picked(), (std::set<std::string>{"s2:80"}));

  // Then exactly one trial each, however many requests are in flight.
  clock_.set(failed_at + seconds(10));
  std::vector<std::unique_ptr<TryList>> requests;
  std::map<std::string, int> first_picks;
  Pick s0_trial;
  TryList* s0_request = nullptr;
  for (int k = 0; k < 30; ++k) {
    requests.push_back(std::make_unique<TryList>(cluster_->snapshot(), clock_, rng_, 1));
    const Pick p = requests.back()->next();
    ASSERT_TRUE(p);
    ++first_picks[p.member->spec.address];
    if (p.member->spec.address == "s0:80") {
      s0_trial = p;
      s0_request = requests.back().get();
    }
  }
  EXPECT_EQ(first_picks["s0:80"], 1);
  EXPECT_EQ(first_picks["s1:80"], 1);
  EXPECT_EQ(first_picks["s2:80"], 28);

  // A failed trial starts a new offline period, in panic as outside it.
  ASSERT_NE(s0_request, nullptr);
  s0_request->report_failure(s0_trial, FailureCause::kTimeout);
  requests.clear();
  EXPECT_TRUE(run_sweep().panic);
  clock_.advance(seconds(9));
  EXPECT_EQ(picked(200).count("s0:80"), 0u);
}

TEST_F(Panic, WhatTheServerOrTheOperatorSaidStaysOut) {
  make(primaries(6));
  state("s0:80").check_health = CheckHealth::kDown;
  state("s1:80").check_health = CheckHealth::kDown;
  state("s2:80").check_health = CheckHealth::kDown;
  state("s3:80").check_health = CheckHealth::kDown;
  state("s1:80").agent_load = kAgentUnavailable;  // Said -1 too: that wins.
  state("s2:80").admin_state = AdminState::kDisabled;
  state("s3:80").agent_admin = AgentAdmin::kDrain;
  state("s4:80").agent_admin = AgentAdmin::kMaint;
  // Considered: s0 (down by checks) and s5 (healthy): 50% is not below 50%.
  EXPECT_FALSE(run_sweep().panic);
  state("s5:80").check_health = CheckHealth::kDown;
  const SweepResult r = run_sweep();
  EXPECT_TRUE(r.panic);
  EXPECT_EQ(r.considered, 2u);
  EXPECT_EQ(picked(), (std::set<std::string>{"s0:80", "s5:80"}));
}

TEST_F(Panic, OperatorDrainingHalfTheClusterIsNotPanic) {
  make(primaries(4));
  state("s0:80").admin_state = AdminState::kDraining;
  state("s1:80").admin_state = AdminState::kDraining;
  state("s2:80").admin_state = AdminState::kDraining;
  EXPECT_FALSE(run_sweep().panic);
  state("s3:80").admin_state = AdminState::kDisabled;
  const SweepResult r = run_sweep();  // Nothing panic could bring back.
  EXPECT_FALSE(r.panic);
  EXPECT_EQ(r.considered, 0u);
}

TEST_F(Panic, ZeroThresholdNeverPanics) {
  make(primaries(2), 0);
  state("s0:80").check_health = CheckHealth::kDown;
  state("s1:80").check_health = CheckHealth::kDown;
  EXPECT_FALSE(run_sweep().panic);
  EXPECT_EQ(picked(), (std::set<std::string>{"none"}));
}

TEST_F(Panic, HealthyBackupsServeBeforePanic) {
  std::vector<ServerSpec> specs = primaries(2);
  specs.push_back({"b0:80", 1, true});
  make(specs);
  state("s0:80").check_health = CheckHealth::kDown;
  state("s1:80").check_health = CheckHealth::kDown;
  EXPECT_FALSE(run_sweep().panic);
  EXPECT_EQ(picked(), (std::set<std::string>{"b0:80"}));
  // Backups down as well: panic, over the primaries first.
  state("b0:80").check_health = CheckHealth::kDown;
  EXPECT_TRUE(run_sweep().panic);
  EXPECT_EQ(picked(), (std::set<std::string>{"s0:80", "s1:80"}));
}

TEST_F(Panic, FewPrimariesLeftPanicsEvenWithBackups) {
  // The tier fallback only takes over when no primary is eligible, so it cannot relieve one
  // surviving primary; panic over the primaries does.
  std::vector<ServerSpec> specs = primaries(4);
  specs.push_back({"b0:80", 1, true});
  make(specs);
  for (const char* a : {"s0:80", "s1:80", "s2:80"}) state(a).check_health = CheckHealth::kDown;
  EXPECT_TRUE(run_sweep().panic);
  EXPECT_EQ(picked(), (std::set<std::string>{"s0:80", "s1:80", "s2:80", "s3:80"}));
}

TEST_F(Panic, OnlyBackupsAreJudgedOnThemselves) {
  make({{"b0:80", 1, true}, {"b1:80", 1, true}, {"b2:80", 1, true}});
  state("b0:80").check_health = CheckHealth::kDown;
  state("b1:80").check_health = CheckHealth::kDown;
  const SweepResult r = run_sweep();
  EXPECT_TRUE(r.panic);
  EXPECT_EQ(r.considered, 3u);
  EXPECT_EQ(picked(), (std::set<std::string>{"b0:80", "b1:80", "b2:80"}));
}

TEST_F(Panic, SnapshotsShareOneHealthState) {
  make(primaries(2));
  const SnapshotPtr before = cluster_->snapshot();
  cluster_->add_server({"s2:80"});
  EXPECT_EQ(before->health_state, cluster_->snapshot()->health_state);
  state("s0:80").check_health = CheckHealth::kDown;
  state("s1:80").check_health = CheckHealth::kDown;
  EXPECT_TRUE(run_sweep().panic);
  // A request still holding the old snapshot sees the panic too.
  TryList tries(before, clock_, rng_, 3);
  std::set<std::string> seen;
  for (Pick p = tries.next(); p; p = tries.next()) seen.insert(p.member->spec.address);
  EXPECT_EQ(seen, (std::set<std::string>{"s0:80", "s1:80"}));
}

}  // namespace
}  // namespace fulcrum::core
