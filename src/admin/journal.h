#pragma once

// Run-time server changes (added, removed, reweighted, drained, disabled through the API) kept so
// that they survive a reload and a restart. Each entry remembers what the configuration said of
// the server when the change was made; it is re-applied to every new configuration that still
// says the same, and dropped (logged) once the configuration itself changes that server. Entries
// are written to a JSON state file (atomically: a temporary file renamed over it) after every
// change. Admin thread only; not thread-safe.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/server.h"
#include "generation/generation.h"

namespace fulcrum::admin {

class Journal {
 public:
  /// `path` empty: kept in memory only (reloads still keep the changes; restarts do not).
  explicit Journal(std::string path);

  /// Reads the state file, if any. A malformed file is logged and ignored (renamed aside), so a
  /// damaged journal never keeps the proxy from starting.
  void load();
  /// Records the server as it is now in `cluster` (member or not), after an API change.
  void record(const generation::ClusterRuntime& cluster, std::string_view address);
  /// Records the server as removed (its removal may still be draining).
  void record_removed(const generation::ClusterRuntime& cluster, std::string_view address);
  /// Re-applies the entries to a freshly built configuration generation before it serves;
  /// drops the entries its configuration overrides. Returns how many were applied.
  std::size_t apply(generation::Generation& runtime);

  const std::string& path() const { return path_; }
  std::size_t size() const { return entries_.size(); }

 private:
  /// A server as the configuration lists it.
  struct Configured {
    uint32_t weight = 1;
    bool backup = false;
    bool operator==(const Configured&) const = default;
  };
  struct Entry {
    std::optional<Configured> configured;  ///< nullopt: not in the configuration.
    bool present = true;                   ///< False: removed through the API.
    Configured current;                    ///< Weight and backup while present.
    core::AdminState state = core::AdminState::kEnabled;
  };
  using Key = std::pair<std::string, std::string>;  // cluster, address

  static std::optional<Configured> configured_in(const generation::ClusterRuntime& cluster,
                                                 std::string_view address);
  void put(const generation::ClusterRuntime& cluster, std::string_view address, const Entry& entry);
  bool apply_entry(generation::ClusterRuntime& cluster, const std::string& address,
                   const Entry& entry);
  void save() const;

  std::string path_;
  std::map<Key, Entry> entries_;
};

}  // namespace fulcrum::admin
