// History (rates, percentiles, minute buckets, timeline) and Removals, driven directly with chosen
// times.
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
  /// As at(), on a wall clock whose steady time 0 is the start of a minute.
  Moment on_minute(core::Nanos steady) {
    return Moment{steady, 1'700'000'040'000'000'000 + steady.count()};
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

TEST_F(HistoryTest, LastHourCountsRequestsAndErrorsPerWallClockMinute) {
  constexpr auto kMinute = seconds(60);
  const std::string_view server = "127.0.0.1:9001";
  // Minute 0; the first sample only sets the baseline.
  history_.sample(runtime_.clusters(), on_minute(seconds(10)));
  state_->picks_total = 30;
  state_->failures_total = 2;
  history_.sample(runtime_.clusters(), on_minute(seconds(40)));
  state_->picks_total = 50;  // 20 more, counted in minute 1.
  core::record_response(state_->stats, 503, milliseconds(1));
  history_.sample(runtime_.clusters(), on_minute(kMinute + seconds(5)));
  state_->picks_total = 57;  // Minute 3: minute 2 saw no sample and counts nothing.
  history_.sample(runtime_.clusters(), on_minute(3 * kMinute + seconds(1)));

  const int64_t now_ns = on_minute(3 * kMinute + seconds(30)).wall_ns;
  const auto hour = history_.last_hour("web", server, now_ns);
  ASSERT_EQ(hour.size(), History::kMinutes);
  const int64_t minute_ns = History::kMinuteNs;
  EXPECT_EQ(hour.back().start_wall_ns, now_ns / minute_ns * minute_ns);
  // Oldest first: the last four are minutes 0..3 of the samples above.
  const auto& m0 = hour[56];
  const auto& m1 = hour[57];
  const auto& m2 = hour[58];
  const auto& m3 = hour[59];
  EXPECT_TRUE(m0.known && m1.known && m2.known && m3.known);
  EXPECT_EQ(m0.requests, 30u);
  EXPECT_EQ(m0.errors, 2u);
  EXPECT_EQ(m1.requests, 20u);
  EXPECT_EQ(m1.errors, 1u);  // The 503.
  EXPECT_EQ(m2.requests, 0u);
  EXPECT_EQ(m3.requests, 7u);
  EXPECT_EQ(m3.errors, 0u);
  EXPECT_FALSE(hour[55].known);  // Before the first sample.
  EXPECT_FALSE(history_.last_hour("web", "127.0.0.1:9999", now_ns)[59].known);
}

TEST_F(HistoryTest, LastHourForgetsMinutesOlderThanAnHour) {
  constexpr auto kMinute = seconds(60);
  history_.sample(runtime_.clusters(), on_minute(seconds(1)));
  state_->picks_total = 9;
  history_.sample(runtime_.clusters(), on_minute(seconds(2)));
  // An hour later the slot of minute 0 is reused for minute 60: it starts from nothing.
  state_->picks_total = 10;
  history_.sample(runtime_.clusters(), on_minute(60 * kMinute + seconds(1)));
  const auto hour = history_.last_hour("web", "127.0.0.1:9001", on_minute(60 * kMinute).wall_ns);
  EXPECT_EQ(hour.back().requests, 1u);
  EXPECT_EQ(hour.front().start_wall_ns, on_minute(kMinute).wall_ns);
  uint64_t total = 0;
  for (const auto& minute : hour) total += minute.requests;
  EXPECT_EQ(total, 1u);  // Minute 0's nine are gone: 61 minutes ago is not in the last hour.
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
