#pragma once

// Shared health's bookkeeping, without I/O: the etcd key and value of one instance's report on
// one server, and the reports of the other instances, counted per server.
//
// Layout: {prefix}{cluster}/{server}/{instance} = {"state": "down", "reason": "health checks"}
// (or {"state": "up"}), under the reporting instance's lease, so the reports of an instance
// that dies leave with its lease. An operator reads every view of one server with
// `etcdctl get --prefix {prefix}{cluster}/{server}/`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fulcrum::core {
class ServerState;
struct PassiveOptions;
}  // namespace fulcrum::core

namespace fulcrum::health {

/// What one instance sees of one server. `reason` is empty when up.
struct LocalView {
  bool down = false;
  std::string reason;

  bool operator==(const LocalView&) const = default;
};

/// This instance's own view: down by what it inferred itself (active checks, a silent agent it
/// requires, outlier ejection, passive connect failures). What the server or an operator said
/// (agent down / drain, admin drain) every instance hears for itself, and shared verdicts are
/// never re-shared, so two instances cannot keep each other's report alive.
LocalView local_view(const core::ServerState& state, const core::PassiveOptions& passive,
                     int64_t now_ns);

struct ReportKey {
  std::string cluster;
  std::string server;
  std::string instance;
};

std::string report_key(std::string_view prefix, std::string_view cluster, std::string_view server,
                       std::string_view instance);
/// Empty when `key` is not {prefix}{cluster}/{server}/{instance}.
std::optional<ReportKey> parse_report_key(std::string_view prefix, std::string_view key);

std::string report_value(const LocalView& view);
/// Empty when `value` is not a report.
std::optional<LocalView> parse_report_value(std::string_view value);

/// The other instances' reports, as the watch delivers them.
class PeerReports {
 public:
  explicit PeerReports(std::string own_instance) : own_(std::move(own_instance)) {}

  /// A report was written; this instance's own keys are ignored. False when the key or value
  /// is not a report (left out).
  bool put(std::string_view prefix, std::string_view key, std::string_view value);
  /// A report was deleted (its instance's lease ended, or the server left its membership).
  void remove(std::string_view key);
  void clear();

  /// How many other instances report `server` of `cluster` down.
  uint32_t down_count(std::string_view cluster, std::string_view server) const;
  std::size_t size() const { return reports_.size(); }

 private:
  struct Report {
    std::string server_id;  ///< "{cluster}/{server}"
    bool down = false;
  };
  void forget(std::unordered_map<std::string, Report>::iterator it);

  std::string own_;
  std::unordered_map<std::string, Report> reports_;        ///< By key.
  std::unordered_map<std::string, uint32_t> down_counts_;  ///< By server id; never 0.
};

}  // namespace fulcrum::health
