// Discrete-event simulation over the real core. Requests arrive evenly spaced; each one runs its
// whole try-list at its arrival instant (connection attempts take no simulated time: a refusal is
// immediate), and a successful request then stays in flight, holding a LoadGuard, for its
// server's latency plus the scenario's request duration. Between arrivals the clock jumps to
// each pending completion and scenario event in time order, so every rule the core bases on time
// (offline timeouts, trials) sees exactly the instant it would in a real run.
#include "sim/simulation.h"

#include <fmt/format.h>

#include <queue>
#include <stdexcept>

#include "core/cluster.h"
#include "core/hash.h"
#include "core/rng.h"
#include "core/try_list.h"
#include "sim/duration.h"

namespace fulcrum::sim {

namespace {

// Simulated time zero sits one second after the clock's origin, so that no real timestamp is 0
// (which ServerState uses to mean "no failure recorded").
constexpr core::Nanos kStart{std::chrono::seconds(1)};
// Keeps the key stream independent of how many draws the policy makes.
constexpr uint64_t kKeySeedSalt = 0x6A09E667F3BCC909ull;

/// The widest window of 1, 2 or 5 times a power of ten (at least 1ms) that still gives ten or
/// more windows: round numbers, and enough rows to see traffic shift.
core::Nanos auto_window(core::Nanos span) {
  const int64_t target = span.count() / 10;
  int64_t best = 1'000'000;
  for (int64_t decade = 1'000'000; decade <= target; decade *= 10) {
    for (int64_t step : {1, 2, 5}) {
      if (decade * step <= target) best = decade * step;
    }
  }
  return core::Nanos{best};
}

struct InFlight {
  core::Nanos end;
  uint64_t sequence;  // Ties complete in arrival order, keeping runs reproducible.
  core::LoadGuard guard;
};

struct LaterFirst {
  bool operator()(const InFlight& a, const InFlight& b) const {
    return a.end != b.end ? a.end > b.end : a.sequence > b.sequence;
  }
};

// Scenarios set agent loads with `agent_load` events, so every cluster weighs them, as a proxy
// cluster with agents does.
core::ClusterOptions cluster_options(const ClusterConfig& config) {
  core::ClusterOptions options{config.name, config.policy, config.passive};
  options.health.agent_loads = true;
  return options;
}

class Simulator {
 public:
  Simulator(const ClusterConfig& config, const Scenario& scenario, const SimulationOptions& options)
      : config_(config),
        scenario_(scenario),
        options_(options),
        clock_(kStart),
        cluster_(cluster_options(config), config.servers),
        reader_(cluster_),
        pick_rng_(scenario.seed),
        key_rng_(scenario.seed ^ kKeySeedSalt),
        refusing_(config.servers.size(), false) {
    for (const auto& spec : config.servers) states_.push_back(cluster_.state_of(spec.address));
  }

  SimulationResult run() {
    if (scenario_.requests == 0) throw std::invalid_argument("a scenario needs at least 1 request");
    result_.requests = scenario_.requests;
    result_.last_arrival = scenario_.arrival(scenario_.requests - 1);
    result_.window =
        options_.window.count() > 0 ? options_.window : auto_window(result_.last_arrival);
    const std::size_t windows = static_cast<std::size_t>(result_.last_arrival / result_.window) + 1;
    for (const auto& spec : config_.servers) {
      result_.servers.push_back(ServerResult{.address = spec.address,
                                             .weight = spec.weight,
                                             .backup = spec.backup,
                                             .served_per_window = std::vector<uint64_t>(windows)});
    }

    for (uint64_t i = 0; i < scenario_.requests; ++i) {
      const core::Nanos at = scenario_.arrival(i);
      advance_to(at);
      run_request(i, at);
    }
    advance_to(core::Nanos::max());
    return std::move(result_);
  }

 private:
  /// Completes requests and applies events due at or before `t` in time order (completions
  /// first on a tie: a request ending as a server fails has already been answered).
  void advance_to(core::Nanos t) {
    for (;;) {
      const bool completion = !in_flight_.empty() && in_flight_.top().end <= t;
      const bool event =
          next_event_ < scenario_.events.size() && scenario_.events[next_event_].at <= t;
      if (completion && (!event || in_flight_.top().end <= scenario_.events[next_event_].at)) {
        set_time(in_flight_.top().end);
        in_flight_.pop();  // Destroying the guard releases the server's load.
      } else if (event) {
        set_time(scenario_.events[next_event_].at);
        apply(scenario_.events[next_event_++]);
      } else {
        break;
      }
    }
    if (t != core::Nanos::max()) set_time(t);
  }

  void set_time(core::Nanos t) { clock_.set(kStart + t); }
  core::Nanos now() const { return clock_.now() - kStart; }

  void note(std::size_t server, std::string text) {
    result_.timeline.push_back(
        {now(), fmt::format("{}: {}", config_.servers[server].address, std::move(text))});
  }

  void apply(const Event& event) {
    core::ServerState& state = *states_[event.server];
    switch (event.action) {
      case Action::kFail:
        refusing_[event.server] = true;
        return note(event.server, "starts refusing connections");
      case Action::kRecover:
        refusing_[event.server] = false;
        return note(event.server, "accepts connections again");
      case Action::kAgentLoad:
        state.agent_load.store(static_cast<int8_t>(event.value), std::memory_order_relaxed);
        return note(event.server, event.value == core::kAgentUnavailable
                                      ? std::string("agent reports -1 (unavailable)")
                                      : fmt::format("agent reports load {}", event.value));
      case Action::kDrain:
        state.admin_state.store(core::AdminState::kDraining, std::memory_order_relaxed);
        return note(event.server, "drained by operator");
      case Action::kDisable:
        state.admin_state.store(core::AdminState::kDisabled, std::memory_order_relaxed);
        return note(event.server, "disabled by operator");
      case Action::kEnable:
        state.admin_state.store(core::AdminState::kEnabled, std::memory_order_relaxed);
        return note(event.server, "enabled by operator");
      case Action::kWeight:
        cluster_.set_weight(config_.servers[event.server].address,
                            static_cast<uint32_t>(event.value));
        return note(event.server, fmt::format("weight set to {}", event.value));
    }
  }

  std::size_t index_of(const core::Pick& pick) const {
    for (std::size_t i = 0; i < states_.size(); ++i) {
      if (states_[i].get() == &pick.state()) return i;
    }
    throw std::logic_error("picked server is not in the cluster");
  }

  bool offline(const core::ServerState& state) const {
    return config_.passive.enabled() &&
           state.consecutive_failures.load(std::memory_order_relaxed) >= config_.passive.attempts;
  }

  void run_request(uint64_t request, core::Nanos at) {
    // Every request has a key, as every proxied request has at least a source address (the
    // proxy's default hash_key); policies other than ring_hash and maglev ignore it.
    const uint64_t key = core::hash_bytes(fmt::format("key-{}", key_rng_.below(scenario_.keys)));
    core::TryList list(reader_.current(), clock_, pick_rng_, config_.retries + 1, key);
    std::optional<std::size_t> previous_failure;
    while (core::Pick pick = list.next()) {
      const std::size_t server = index_of(pick);
      ServerResult& out = result_.servers[server];
      if (previous_failure) {
        ++result_.servers[*previous_failure].absorbed;
        ++result_.retries;
      }
      const bool trial = offline(pick.state());
      if (options_.record_attempts) {
        result_.attempts.push_back({at, request, server, refusing_[server], trial});
      }
      if (refusing_[server]) {
        list.report_failure(pick, core::FailureCause::kRefused);
        ++out.failed_attempts;
        track_failure(server, trial);
        previous_failure = server;
        continue;
      }
      const core::Nanos latency = scenario_.latency_of(server);
      list.report_success(pick, latency);
      if (trial) {
        out.outages.back().returned = now();
        note(server, "trial attempt succeeded; back in rotation");
      }
      ++out.served;
      ++out.served_per_window[static_cast<std::size_t>(at / result_.window)];
      ++result_.succeeded;
      in_flight_.push({at + latency + scenario_.request_duration, request,
                       core::LoadGuard(list.snapshot(), pick, core::LoadKind::kConnection)});
      if (failing_streak_ > 0) {
        result_.timeline.push_back(
            {now(),
             fmt::format("requests succeed again after {} failed outright", failing_streak_)});
        failing_streak_ = 0;
      }
      return;
    }
    const bool exhausted = list.end_reason() == core::TryListEnd::kAttemptsExhausted;
    ++(exhausted ? result_.failed_exhausted : result_.failed_no_server);
    if (failing_streak_++ == 0) {
      result_.timeline.push_back(
          {now(), exhausted ? "requests start failing outright: retry budget exhausted"
                            : "requests start failing outright: no eligible server"});
    }
  }

  /// Passive tracking's verdict after a refused attempt: newly offline, or a failed trial.
  void track_failure(std::size_t server, bool was_trial) {
    const core::ServerState& state = *states_[server];
    if (!config_.passive.enabled()) return;
    const std::string until = format_seconds(core::offline_until(state, config_.passive) - kStart);
    if (state.consecutive_failures.load(std::memory_order_relaxed) == config_.passive.attempts) {
      result_.servers[server].outages.push_back({.detected = now()});
      note(server, fmt::format("offline after {} consecutive failed attempts; skipped until {}",
                               config_.passive.attempts, until));
    } else if (was_trial) {
      ++result_.servers[server].outages.back().failed_trials;
      note(server, fmt::format("trial attempt failed; offline until {}", until));
    }
  }

  const ClusterConfig& config_;
  const Scenario& scenario_;
  const SimulationOptions& options_;
  core::ManualClock clock_;
  core::Cluster cluster_;
  core::SnapshotReader reader_;
  core::FastRng pick_rng_;
  core::FastRng key_rng_;
  std::vector<std::shared_ptr<core::ServerState>> states_;  // In cluster order.
  std::vector<bool> refusing_;
  std::priority_queue<InFlight, std::vector<InFlight>, LaterFirst> in_flight_;
  std::size_t next_event_ = 0;
  uint64_t failing_streak_ = 0;
  SimulationResult result_;
};

}  // namespace

SimulationResult simulate(const ClusterConfig& cluster, const Scenario& scenario,
                          const SimulationOptions& options) {
  return Simulator(cluster, scenario, options).run();
}

}  // namespace fulcrum::sim
