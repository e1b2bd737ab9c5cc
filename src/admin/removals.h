#pragma once

// Server removals in progress (DELETE /api/v1/clusters/{name}/servers/{address}). The server is
// set draining first, so it takes no new request while those in flight and the connections in
// use finish; it leaves the cluster once it has neither, or when the drain timeout passes (the
// requests still running hold their own snapshot, so removal never cuts them off). Polled on the
// admin thread; not thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "generation/generation.h"

namespace fulcrum::admin {

class Removals {
 public:
  struct Outcome {
    bool removed = false;  ///< False: cancelled because an operator enabled the server again.
    int32_t open_connections = 0;  ///< Still open when it was removed (drain timeout).
    core::Nanos took{0};
  };

  /// Starts removing `address`, which the caller has set draining. False when a removal of it
  /// is already under way (the caller reports that one).
  bool begin(std::shared_ptr<core::Cluster> cluster, const std::string& address, std::string origin,
             core::Nanos now, core::Nanos timeout);
  /// Removes what may be removed at `now`; logs each outcome.
  void poll(core::Nanos now);

  bool pending(std::string_view cluster, std::string_view address) const;
  bool idle() const { return pending_.empty(); }
  /// The last finished removal of that server, if any.
  std::optional<Outcome> outcome(std::string_view cluster, std::string_view address) const;

 private:
  struct Item {
    // The cluster of the generation the removal began in: a reload re-applies the removal to
    // the new one (the journal), while this one finishes draining the requests it serves.
    std::shared_ptr<core::Cluster> cluster;
    std::string address;
    std::string origin;
    core::Nanos started;
    core::Nanos deadline;
  };
  static std::string key(std::string_view cluster, std::string_view address);
  void finish(const Item& item, Outcome outcome);

  std::vector<Item> pending_;
  std::unordered_map<std::string, Outcome> finished_;
};

}  // namespace fulcrum::admin
