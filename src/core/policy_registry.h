#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/policy.h"

namespace fulcrum::core {

/// Policy names to factories. Registration is explicit (see policy_registry.cc) rather than by
/// static initialisers, which a static library can silently drop.
class PolicyRegistry {
 public:
  void add(std::string name, PolicyFactory factory);
  /// nullptr when `name` is unknown.
  PolicyFactory find(std::string_view name) const;
  std::vector<std::string> names() const;

  /// The built-in policies.
  static const PolicyRegistry& builtin();

 private:
  std::vector<std::pair<std::string, PolicyFactory>> entries_;
};

}  // namespace fulcrum::core
