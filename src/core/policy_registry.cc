#include "core/policy_registry.h"

namespace fulcrum::core {

namespace policies {
// One line per built-in policy: X(config name). Each expands to a declaration of
// make_<name>(), defined in core/policies/<name>.cc, and to its registration below.
#define FULCRUM_BUILTIN_POLICIES(X) \
  X(round_robin)                    \
  X(weighted_round_robin)           \
  X(least_connections)              \
  X(random)                         \
  X(power_of_two)                   \
  X(least_latency)                  \
  X(ring_hash)                      \
  X(maglev)                         \
  X(first_available)                \
  X(agent)

#define FULCRUM_DECLARE_POLICY(name) std::unique_ptr<Policy> make_##name(std::span<const Member>);
FULCRUM_BUILTIN_POLICIES(FULCRUM_DECLARE_POLICY)
#undef FULCRUM_DECLARE_POLICY
}  // namespace policies

void PolicyRegistry::add(std::string name, PolicyFactory factory) {
  entries_.emplace_back(std::move(name), factory);
}

PolicyFactory PolicyRegistry::find(std::string_view name) const {
  for (const auto& [entry_name, factory] : entries_) {
    if (entry_name == name) return factory;
  }
  return nullptr;
}

std::vector<std::string> PolicyRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& entry : entries_) out.push_back(entry.first);
  return out;
}

const PolicyRegistry& PolicyRegistry::builtin() {
  static const PolicyRegistry registry = [] {
    PolicyRegistry r;
#define FULCRUM_REGISTER_POLICY(name) r.add(#name, &policies::make_##name);
    FULCRUM_BUILTIN_POLICIES(FULCRUM_REGISTER_POLICY)
#undef FULCRUM_REGISTER_POLICY
    return r;
  }();
  return registry;
}

}  // namespace fulcrum::core
