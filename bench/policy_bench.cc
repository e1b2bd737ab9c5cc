// Pick cost of every registered policy at 3, 100 and 10,000 servers, all healthy, passive
// tracking on (the usual production setting). Also the full per-request path through a TryList.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "core/cluster.h"
#include "core/hash.h"
#include "core/policy_registry.h"
#include "core/try_list.h"

namespace fulcrum::core {
namespace {

std::vector<Member> make_members(int64_t n) {
  std::vector<Member> members;
  members.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    std::string address = "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                          "." + std::to_string(i % 256) + ":8080";
    auto state = std::make_shared<ServerState>(address);
    state->latency_ewma_ns = 1'000'000 + (i * 7919) % 500'000;
    // Sampled a moment ago, so least_latency computes a decay rather than taking a settled one.
    state->latency_sampled_ns = SteadyClock().now().count();
    state->agent_load = static_cast<int8_t>(i % 90);
    members.push_back({ServerSpec{address, static_cast<uint32_t>(1 + i % 4), false}, state});
  }
  return members;
}

void pick_cost(benchmark::State& bench, const std::string& policy_name) {
  const auto members = make_members(bench.range(0));
  auto policy = PolicyRegistry::builtin().find(policy_name)(members);
  const PassiveOptions passive{3, std::chrono::seconds(10)};
  // The proxy reads the clock once per event-loop turn, not per pick, so neither does this.
  const Nanos now = SteadyClock().now();
  FastRng rng(42);
  uint64_t key = 1;
  for (auto _ : bench) {
    Candidates candidates(members, passive, now, nullptr);
    key = mix64(key);
    benchmark::DoNotOptimize(policy->pick(PickRequest{candidates, rng, key}));
  }
}

void try_list_round_trip(benchmark::State& bench) {
  std::vector<ServerSpec> servers;
  for (const auto& m : make_members(bench.range(0))) servers.push_back(m.spec);
  Cluster cluster(
      {.name = "bench", .policy = "round_robin", .passive = {3, std::chrono::seconds(10)}},
      servers);
  SnapshotReader reader(cluster);
  SteadyClock clock;
  FastRng rng(42);
  for (auto _ : bench) {
    TryList tries(reader.current(), clock, rng, 3);
    Pick pick = tries.next();
    LoadGuard load(tries.snapshot(), pick, LoadKind::kRequest);
    tries.report_success(pick, std::chrono::microseconds(500));
  }
}

int register_all = [] {
  for (const auto& name : PolicyRegistry::builtin().names()) {
    benchmark::RegisterBenchmark(("pick/" + name).c_str(), pick_cost, name)
        ->Arg(3)
        ->Arg(100)
        ->Arg(10'000);
  }
  benchmark::RegisterBenchmark("try_list/round_robin", try_list_round_trip)->Arg(3)->Arg(10'000);
  return 0;
}();

}  // namespace
}  // namespace fulcrum::core
