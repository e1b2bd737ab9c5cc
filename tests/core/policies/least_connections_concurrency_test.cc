// Threads pick, start and finish requests and notify the least_connections tree concurrently,
// while eligibility flips and the clock moves sweeps along. Run under TSan (label "concurrency").
// Once quiet, every tree node must be exact again: the CAS protocol admits no lost update.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/policies/least_connections.h"
#include "fakes/policy_harness.h"

namespace fulcrum::core {
namespace {

using namespace std::chrono_literals;

// 1000 members spread the threads over the tree; 24 (the smallest trees) make them collide on
// the same few nodes, where lost updates would show.
class LeastConnectionsConcurrency : public ::testing::TestWithParam<std::size_t> {};

TEST_P(LeastConnectionsConcurrency, TreeIsExactOnceQuiet) {
  const std::size_t kMembers = GetParam();
  constexpr int kThreads = 3;
  constexpr uint64_t kMaxIterations = 2'000'000;
  testing::PolicyHarness h("least_connections", std::vector<uint32_t>(kMembers, 1));
  for (std::size_t i = 0; i < kMembers; ++i) h.members()[i].spec.weight = 1 + i % 3;
  h.rebuild();

  std::atomic<uint64_t> bad_picks{0};
  std::atomic<uint64_t> no_picks{0};
  std::atomic<uint64_t> picks{0};
  const auto deadline = std::chrono::steady_clock::now() + 300ms;

  auto worker = [&](int id) {
    FastRng rng(100 + id);
    std::array<std::size_t, 16> open{};  // Members this thread holds a connection to.
    std::size_t open_count = 0;
    auto close_one = [&] {
      const std::size_t k = rng.below(open_count);
      const std::size_t i = open[k];
      open[k] = open[--open_count];
      h.state(i).in_flight.fetch_sub(1);
      h.policy().on_load_changed(i);
    };
    for (uint64_t n = 0; n < kMaxIterations; ++n) {
      if ((n & 255) == 0 && std::chrono::steady_clock::now() >= deadline) break;
      if (id == 0 && (n & 255) == 0) h.clock().advance(1ms);  // Keeps sweeps coming.
      if (id == 1 && (n & 63) == 0) {  // Eligibility churn (odd members only): parking.
        ServerState& s = h.state(2 * rng.below(kMembers / 2) + 1);
        s.admin_state =
            s.admin_state == AdminState::kEnabled ? AdminState::kDisabled : AdminState::kEnabled;
      }
      if (open_count == open.size() || (open_count > 0 && rng.below(2) == 0)) {
        close_one();
        continue;
      }
      TriedSet tried;  // Every 8th pick is a retry of the member the previous one chose.
      if ((n & 7) == 0 && open_count > 0) tried.insert(&h.state(open[open_count - 1]));
      const std::size_t i = h.pick(rng, std::nullopt, &tried);
      picks.fetch_add(1, std::memory_order_relaxed);
      if (i == kNoPick) {
        no_picks.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (i >= kMembers || tried.contains(&h.state(i))) {
        bad_picks.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      h.state(i).in_flight.fetch_add(1);
      h.policy().on_load_changed(i);
      open[open_count++] = i;
    }
    while (open_count > 0) close_one();
  };

  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) threads.emplace_back(worker, id);
  for (auto& t : threads) t.join();

  EXPECT_GT(picks.load(), 1000u);
  EXPECT_EQ(bad_picks.load(), 0u);
  EXPECT_EQ(no_picks.load(), 0u);  // Churn never touches even members.
  for (std::size_t i = 0; i < kMembers; ++i) {
    ASSERT_EQ(h.state(i).in_flight.load(), 0) << i;
  }
  EXPECT_EQ(policies::least_connections_check_for_test(h.policy()), "");
}

INSTANTIATE_TEST_SUITE_P(Members, LeastConnectionsConcurrency, ::testing::Values(1000, 24));

// Threads send requests that each hold their server for the same number of the sending thread's
// steps (equally fast servers): weight-2 servers must get about twice the requests of weight-1
// ones, whatever the interleaving of picks, deadline moves and notifications. Enough requests are
// in flight for every server to be busy: with idle servers about, least connections sends each
// request to an idle one and the weights only order the idle ones.
TEST(LeastConnectionsConcurrencyShares, SharesFollowWeights) {
  constexpr std::size_t kMembers = 24;  // A tree (more than kLeastConnectionsScanMax members).
  constexpr int kThreads = 3;
  // Requests each thread keeps in flight: 360 in all, about 10 per unit of weight on 24 members,
  // so whole requests are a small part of each server's load.
  constexpr std::size_t kHeld = 120;
  constexpr uint64_t kRequests = 60'000;
  testing::PolicyHarness h("least_connections", std::vector<uint32_t>(kMembers, 1));
  for (std::size_t i = 0; i < kMembers; i += 2) h.members()[i].spec.weight = 2;
  h.rebuild();
  std::vector<std::atomic<uint64_t>> picks(kMembers);

  auto worker = [&](int id) {
    FastRng rng(200 + id);
    std::vector<std::size_t> held(kHeld);  // A ring: the oldest request finishes first.
    for (uint64_t n = 0; n < kRequests; ++n) {
      const std::size_t slot = n % kHeld;
      if (n >= kHeld) {
        h.state(held[slot]).in_flight.fetch_sub(1);
        h.policy().on_load_changed(held[slot]);
      }
      const std::size_t i = h.pick(rng);
      ASSERT_LT(i, kMembers);
      h.state(i).in_flight.fetch_add(1);
      h.policy().on_load_changed(i);
      picks[i].fetch_add(1, std::memory_order_relaxed);
      held[slot] = i;
    }
    for (std::size_t i : held) {
      h.state(i).in_flight.fetch_sub(1);
      h.policy().on_load_changed(i);
    }
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id) threads.emplace_back(worker, id);
  for (auto& t : threads) t.join();

  uint64_t heavy = 0, light = 0;
  for (std::size_t i = 0; i < kMembers; ++i) (i % 2 == 0 ? heavy : light) += picks[i].load();
  EXPECT_EQ(heavy + light, kThreads * kRequests);
  // Within 0.3: least connections keeps each server's count within a request or two of its
  // weighted share (one finishing there makes it the least loaded, so it gets the next), and a
  // server holds its count as long as that lasts: 2 in 10 or 20 requests moves the ratio ~0.2.
  EXPECT_NEAR(static_cast<double>(heavy) / static_cast<double>(light), 2.0, 0.3);
  EXPECT_EQ(policies::least_connections_check_for_test(h.policy()), "");
}

}  // namespace
}  // namespace fulcrum::core
