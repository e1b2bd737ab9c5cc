// fulcrum-sim: runs a traffic scenario against a cluster through the real balancing core in
// simulated time and prints what each server served, how failures were absorbed and when passive
// tracking took servers out of rotation and back.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/values.h"
#include "sim/cluster_config.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace {

constexpr int kUsageError = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace fulcrum::sim;

  CLI::App app("Simulates a Fulcrum cluster under a traffic scenario, in simulated time.",
               "fulcrum-sim");
  std::string cluster_path;
  std::string scenario_path;
  std::optional<uint64_t> seed;
  std::string window;
  bool trace = false;
  app.footer("File formats and the meaning of each column: docs/simulator.md");
  app.add_option("cluster", cluster_path, "Cluster file (YAML)")->required();
  app.add_option("scenario", scenario_path, "Scenario file (YAML)")->required();
  app.add_option("--seed", seed, "Overrides the scenario's seed");
  app.add_option("--window", window, "Width of the traffic-per-window table, e.g. 2s");
  app.add_flag("--trace", trace, "Also print every connection attempt");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kUsageError;
  }

  try {
    const ClusterConfig cluster = load_cluster_file(cluster_path);
    Scenario scenario = load_scenario_file(scenario_path, cluster);
    if (seed) scenario.seed = *seed;
    SimulationOptions options;
    options.record_attempts = trace;
    if (!window.empty()) {
      const auto parsed =
          fulcrum::config::parse_duration(window, fulcrum::config::DurationSyntax::kFine);
      if (!parsed) {
        fmt::print(stderr,
                   "fulcrum-sim: --window: expected a duration like 500ms, 10s or 2m, got '{}'\n",
                   window);
        return kUsageError;
      }
      options.window = *parsed;
      if (options.window.count() == 0) {
        fmt::print(stderr, "fulcrum-sim: --window must be greater than 0\n");
        return kUsageError;
      }
    }
    const SimulationResult result = simulate(cluster, scenario, options);
    if (trace) fmt::print("{}\n", format_trace(cluster, result));
    fmt::print("{}", format_report(cluster, scenario, result));
    return 0;
  } catch (const fulcrum::config::ConfigError& e) {
    fmt::print(stderr, "fulcrum-sim: error: {}\n", e.what());
    return 1;
  }
}
