#pragma once

// Test seams of the least_connections policy; production code reaches it through the registry.
#include <cstddef>
#include <string>

#include "core/policy.h"

namespace fulcrum::core::policies {

/// Tiers of at most this many members are scanned on every pick; larger ones use the tree.
inline constexpr std::size_t kLeastConnectionsScanMax = 16;

/// Once no pick or on_load_changed is running: "" when every tree node is exact (a leaf holds its
/// member's (load, deadline) key, or +inf while parked; an inner node the first of its
/// children's), otherwise the first mismatch. Always "" for a scanning policy. `policy` must come
/// from make_least_connections.
std::string least_connections_check_for_test(const Policy& policy);

/// How many members the tree holds parked (out of the tree as ineligible); 0 when scanning.
std::size_t least_connections_parked_for_test(const Policy& policy);

}  // namespace fulcrum::core::policies
