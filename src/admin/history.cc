#include "admin/history.h"

#include "admin/members.h"
#include "admin/server_status.h"

namespace fulcrum::admin {

std::optional<double> latency_quantile(const LatencyCounts& counts, double q) {
  uint64_t total = 0;
  for (const uint64_t c : counts) total += c;
  if (total == 0) return std::nullopt;
  const auto& bounds = core::ServerStats::kLatencyBoundsNs;
  const double rank = q * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double here = static_cast<double>(counts[i]);
    if (here > 0 && below + here >= rank) {
      // Past the last bound there is no upper edge: report the last bound, as Prometheus does.
      if (i == bounds.size()) return static_cast<double>(bounds.back()) / 1e9;
      const double low = i == 0 ? 0.0 : static_cast<double>(bounds[i - 1]);
      const double high = static_cast<double>(bounds[i]);
      const double within = std::max(0.0, rank - below) / here;
      return (low + (high - low) * within) / 1e9;
    }
    below += here;
  }
  return static_cast<double>(bounds.back()) / 1e9;
}

std::string History::key(std::string_view cluster, std::string_view address) {
  std::string k(cluster);
  k += '/';  // Not allowed in cluster names.
  k += address;
  return k;
}

const History::Entry* History::find(std::string_view cluster, std::string_view address) const {
  const auto it = entries_.find(key(cluster, address));
  return it == entries_.end() ? nullptr : &it->second;
}

void History::count_minute(Entry& entry, int64_t wall_ns, uint64_t requests, uint64_t errors) {
  const int64_t minute = wall_ns / kMinuteNs;
  MinuteCounts& slot = entry.minutes[static_cast<std::size_t>(minute) % kMinutes];
  if (slot.minute != minute) slot = MinuteCounts{.minute = minute};
  slot.requests += requests;
  slot.errors += errors;
}

void History::sample(const std::vector<generation::ClusterRuntime>& clusters, const Moment& now) {
  ++generation_;
  for (const generation::ClusterRuntime& cluster : clusters) {
    const core::SnapshotPtr snapshot = cluster.cluster->snapshot();
    for_each_member(*snapshot, [&](const core::Member& member) {
      const core::ServerSpec& spec = member.spec;
      const auto& state = member.state;
      Entry& entry = entries_[key(cluster.config.name, spec.address)];
      entry.generation = generation_;
      if (entry.state != state.get()) {
        // A server removed and added again has fresh counters: differences would be nonsense.
        entry.state = state.get();
        entry.count = 0;
      }

      Sample sample;
      sample.at = now.steady;
      const core::ServerStats& stats = state->stats;
      sample.requests = state->picks_total.load(std::memory_order_relaxed);
      sample.errors = state->failures_total.load(std::memory_order_relaxed) +
                      stats.responses[5].load(std::memory_order_relaxed);
      for (std::size_t i = 0; i < sample.latency.size(); ++i) {
        sample.latency[i] = stats.latency_buckets[i].load(std::memory_order_relaxed);
      }
      const Sample& previous = entry.ring[(entry.next + kSamples - 1) % kSamples];
      if (entry.count > 0 &&
          (sample.requests < previous.requests || sample.errors < previous.errors)) {
        entry.count = 0;
      }
      if (entry.first_minute < 0) entry.first_minute = now.wall_ns / kMinuteNs;
      if (entry.count > 0) {
        count_minute(entry, now.wall_ns, sample.requests - previous.requests,
                     sample.errors - previous.errors);
      } else {
        count_minute(entry, now.wall_ns, 0, 0);  // No earlier sample to difference against.
      }
      entry.ring[entry.next] = sample;
      entry.next = (entry.next + 1) % kSamples;
      entry.count = std::min(entry.count + 1, kSamples);

      const core::Eligibility state_now =
          server_status(cluster, spec, *state, now.steady).eligibility;
      if (entry.timeline.empty() || entry.timeline.back().state != state_now) {
        if (!entry.timeline.empty()) ++entry.transitions;
        entry.timeline.push_back(Event{now.wall_ns, state_now});
      }
      // Keep the event in force an hour ago, so the timeline's start has a known state.
      while (entry.timeline.size() > kMaxEvents ||
             (entry.timeline.size() > 1 &&
              entry.timeline[1].wall_ns < now.wall_ns - kTimelineSpanNs)) {
        entry.timeline.pop_front();
      }
    });
  }
  std::erase_if(entries_, [&](const auto& item) { return item.second.generation != generation_; });
}

History::Rates History::rates(std::string_view cluster, std::string_view address) const {
  Rates rates;
  const Entry* entry = find(cluster, address);
  if (entry == nullptr || entry->count < 2) return rates;
  const Sample& newest = entry->ring[(entry->next + kSamples - 1) % kSamples];
  const Sample& oldest = entry->ring[(entry->next + kSamples - entry->count) % kSamples];
  const double seconds = std::chrono::duration<double>(newest.at - oldest.at).count();
  if (seconds <= 0) return rates;
  rates.requests_per_second = static_cast<double>(newest.requests - oldest.requests) / seconds;
  rates.errors_per_second = static_cast<double>(newest.errors - oldest.errors) / seconds;
  LatencyCounts window{};
  for (std::size_t i = 0; i < window.size(); ++i) {
    window[i] = newest.latency[i] - oldest.latency[i];
  }
  rates.p50 = latency_quantile(window, 0.50);
  rates.p90 = latency_quantile(window, 0.90);
  rates.p99 = latency_quantile(window, 0.99);
  return rates;
}

std::array<History::Minute, History::kMinutes> History::last_hour(std::string_view cluster,
                                                                  std::string_view address,
                                                                  int64_t wall_ns) const {
  std::array<Minute, kMinutes> hour;
  const Entry* entry = find(cluster, address);
  const int64_t first = wall_ns / kMinuteNs - static_cast<int64_t>(kMinutes) + 1;
  for (std::size_t i = 0; i < kMinutes; ++i) {
    const int64_t minute = first + static_cast<int64_t>(i);
    Minute& out = hour[i];
    out.start_wall_ns = minute * kMinuteNs;
    if (entry == nullptr || minute < entry->first_minute) continue;
    out.known = true;
    const MinuteCounts& slot = entry->minutes[static_cast<std::size_t>(minute) % kMinutes];
    if (slot.minute != minute) continue;  // Nothing counted in it (or only a wall-clock jump).
    out.requests = slot.requests;
    out.errors = slot.errors;
  }
  return hour;
}

const std::deque<History::Event>& History::timeline(std::string_view cluster,
                                                    std::string_view address) const {
  static const std::deque<Event> kNone;
  const Entry* entry = find(cluster, address);
  return entry == nullptr ? kNone : entry->timeline;
}

uint64_t History::transitions(std::string_view cluster, std::string_view address) const {
  const Entry* entry = find(cluster, address);
  return entry == nullptr ? 0 : entry->transitions;
}

}  // namespace fulcrum::admin
