// Cost of a discovery update at 10,000 servers: the source reports the whole membership with one
// server changed, and Cluster::set_servers turns it into a new snapshot (copying the specs,
// carrying every server's live state over, building both tiers' policies). Measured per policy,
// since building the policy (a hash ring, a Maglev table) is most of it.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/cluster.h"

namespace fulcrum::core {
namespace {

std::vector<ServerSpec> make_specs(int64_t n) {
  std::vector<ServerSpec> specs;
  specs.reserve(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    specs.push_back(ServerSpec{"10." + std::to_string(i / 65536) + "." +
                                   std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) +
                                   ":8080",
                               static_cast<uint32_t>(1 + i % 4), false});
  }
  return specs;
}

// Each iteration publishes the membership with one key different from the previous one: server
// 0 alternates between two addresses (one leaves, another joins).
void set_servers_one_changed(benchmark::State& bench, const std::string& policy) {
  const auto servers = make_specs(bench.range(0));
  auto other = servers;
  other[0].address = "10.255.255.255:8080";
  Cluster cluster(ClusterOptions{.name = "bench", .policy = policy}, servers);
  bool flip = false;
  for (auto _ : bench) {
    flip = !flip;
    cluster.set_servers(flip ? other : servers);
  }
  bench.SetLabel(std::to_string(cluster.snapshot()->size()) + " servers");
}

BENCHMARK_CAPTURE(set_servers_one_changed, round_robin, std::string("round_robin"))
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(set_servers_one_changed, maglev, std::string("maglev"))
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(set_servers_one_changed, ring_hash, std::string("ring_hash"))
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fulcrum::core
