#pragma once

// What every admin handler works with. Lives on the admin thread; the generation it points at is
// shared with the workers, which only ever see it through atomics and published snapshots.

#include <functional>
#include <string>
#include <string_view>

#include "admin/history.h"
#include "admin/journal.h"
#include "admin/removals.h"
#include "admin/time_format.h"
#include "core/clock.h"
#include "generation/generation.h"

namespace fulcrum::admin {

struct Context {
  /// The current configuration generation; a reload (run on the admin thread) replaces it.
  generation::Generation* runtime;
  const core::Clock& clock;
  History& history;
  Removals& removals;
  core::Nanos drain_timeout;
  core::Nanos started;  ///< Steady time the admin server was created, for uptime.
  Journal& journal;
  /// Reads the configuration file again and applies it; "" on success, else why not (with
  /// file:line:column for an invalid file). Unset: reloading is not available.
  std::function<std::string()> reload;

  Moment now() const { return Moment::now(clock); }

  /// nullptr when no cluster has that name.
  generation::ClusterRuntime* find_cluster(std::string_view name) {
    for (auto& cluster : runtime->clusters()) {
      if (cluster.config.name == name) return &cluster;
    }
    return nullptr;
  }
};

}  // namespace fulcrum::admin
