// History (rates, percentiles, timeline) and Removals, driven directly with chosen times.
#include "admin/history.h"

#include "admin/removals.h"
#include "config/config.h"
#include "tests/admin/admin_fixture.h"

namespace fulcrum::admin::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(LatencyQuantile, InterpolatesWithinTheBucket) {
  LatencyCounts counts{};
  EXPECT_FALSE(latency_quantile(counts, 0.5));
  counts[2] = 100;  // All in (1 ms, 2.5 ms].
  EXPECT_NEAR(*latency_quantile(counts, 0.5), 0.00175, 1e-9);
  EXPECT_NEAR(*latency_quantile(counts, 1.0), 0.0025, 1e-9);
  counts[0] = 100;  // Half in (0, 0.5 ms].
  EXPECT_NEAR(*latency_quantile(counts, 0.25), 0.00025, 1e-9);
  LatencyCounts slow{};
  slow.back() = 1;  // Past the last bound: reported at it.
  EXPECT_NEAR(*latency_quantile(slow, 0.99), 10.0, 1e-9);
}

class HistoryTest : public ::testing::Test {
 protected:
  HistoryTest()
      : runtime_(config::load_config_string(base_config(), "history.yaml")),
        web_(runtime_.clusters()[0]),
        state_(web_.cluster->state_of("127.0.0.1:9001")) {}

  Moment at(core::Nanos steady) {
    return Moment{steady, 1'700'000'000'000'000'000 + steady.count()};
  }

  generation::Generation runtime_;
  generation::ClusterRuntime& web_;
  std::shared_ptr<core::ServerState> state_;
  History history_;
};

TEST_F(HistoryTest, RatesAreDifferencesOverTheWindow) {
  history_.sample(runtime_.clusters(), at(seconds(10)));
  EXPECT_EQ(history_.rates("web", "127.0.0.1:9001").requests_per_second, 0);
  state_->picks_total = 100;
  state_->failures_total = 4;
  core::record_response(state_->stats, 502, milliseconds(2));
  history_.sample(runtime_.clusters(), at(seconds(12)));
  const History::Rates rates = history_.rates("web", "127.0.0.1:9001");
  EXPECT_DOUBLE_EQ(rates.requests_per_second, 50);
  EXPECT_DOUBLE_EQ(rates.errors_per_second, 2.5);  // Four failures and one 5xx in two seconds.
  ASSERT_TRUE(rates.p50);
  EXPECT_GT(*rates.p50, 0.001);
  EXPECT_LE(*rates.p50, 0.0025);
}

TEST_F(HistoryTest, TheWindowSlidesAndCountersThatRestartAreNotDifferenced) {
  for (int i = 0; i < 30; ++i) {
    state_->picks_total = i < 25 ? 0 : 10 * (i - 24);
    history_.sample(runtime_.clusters(), at(seconds(i)));
  }
  // 21 samples kept: from t=9 to t=29; requests went 0 -> 50 in the last five.
  EXPECT_DOUBLE_EQ(history_.rates("web", "127.0.0.1:9001").requests_per_second, 2.5);
  state_->picks_total = 3;  // A removed and re-added server starts from zero.
  history_.sample(runtime_.clusters(), at(seconds(30)));
  EXPECT_EQ(history_.rates("web", "127.0.0.1:9001").requests_per_second, 0);
}

TEST_F(HistoryTest, TimelineRecordsEachChangeAndForgetsRemovedServers) {
  history_.sample(runtime_.clusters(), at(seconds(1)));
  state_->admin_state = core::AdminState::kDraining;
  history_.sample(runtime_.clusters(), at(seconds(2)));
  history_.sample(runtime_.clusters(), at(seconds(3)));
  state_->admin_state = core::AdminState::kEnabled;
  history_.sample(runtime_.clusters(), at(seconds(4)));
  const auto& events = history_.timeline("web", "127.0.0.1:9001");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].state, core::Eligibility::kDraining);
  EXPECT_EQ(events[1].wall_ns, at(seconds(2)).wall_ns);
  EXPECT_EQ(history_.transitions("web", "127.0.0.1:9001"), 2u);

  web_.cluster->remove_server("127.0.0.1:9001");
  history_.sample(runtime_.clusters(), at(seconds(5)));
  EXPECT_TRUE(history_.timeline("web", "127.0.0.1:9001").empty());
}

TEST_F(HistoryTest, TimelineKeepsAnHourAndTheStateInForceAtItsStart) {
  history_.sample(runtime_.clusters(), at(seconds(1)));
  state_->admin_state = core::AdminState::kDisabled;
  history_.sample(runtime_.clusters(), at(seconds(2)));
  state_->admin_state = core::AdminState::kEnabled;
  history_.sample(runtime_.clusters(), at(seconds(3)));
  history_.sample(runtime_.clusters(), at(seconds(2 + 3600 + 5)));
  const auto& events = history_.timeline("web", "127.0.0.1:9001");
  // The first two events are over an hour old, but the enable at t=3 started before the hour.
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state, core::Eligibility::kEligible);
}

TEST_F(HistoryTest, RemovalWaitsForConnectionsAndRequestsOrTheTimeout) {
  Removals removals;
  state_->admin_state = core::AdminState::kDraining;
  state_->in_flight = 1;
  EXPECT_TRUE(removals.begin(web_.cluster, "127.0.0.1:9001", "test", seconds(1), seconds(5)));
  EXPECT_FALSE(removals.begin(web_.cluster, "127.0.0.1:9001", "test", seconds(1), seconds(5)));
  removals.poll(seconds(2));
  EXPECT_TRUE(removals.pending("web", "127.0.0.1:9001"));
  state_->in_flight = 0;
  removals.poll(seconds(3));
  EXPECT_FALSE(removals.pending("web", "127.0.0.1:9001"));
  EXPECT_EQ(web_.cluster->state_of("127.0.0.1:9001"), nullptr);
  ASSERT_TRUE(removals.outcome("web", "127.0.0.1:9001"));
  EXPECT_EQ(removals.outcome("web", "127.0.0.1:9001")->took, seconds(2));

  const auto busy = web_.cluster->state_of("127.0.0.1:9002");
  busy->admin_state = core::AdminState::kDisabled;  // Disabled servers are removed too.
  busy->active_connections = 4;
  removals.begin(web_.cluster, "127.0.0.1:9002", "test", seconds(10), seconds(5));
  removals.poll(milliseconds(14'999));
  EXPECT_TRUE(removals.pending("web", "127.0.0.1:9002"));
  removals.poll(seconds(15));
  EXPECT_EQ(removals.outcome("web", "127.0.0.1:9002")->open_connections, 4);
  EXPECT_TRUE(removals.idle());
}

}  // namespace
}  // namespace fulcrum::admin::testing
