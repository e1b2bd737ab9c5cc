#pragma once

#include <cstddef>

#include "discovery/source.h"

namespace fulcrum::discovery {

/// Whether a reported membership may replace the published one: an empty set is refused unless
/// the cluster allows it (a DNS zone emptied by mistake, a truncated file, an etcd prefix wiped
/// must not take a whole cluster out), so the last good membership stays.
enum class Verdict { kPublish, kRefuseEmpty };

inline Verdict judge_membership(const Membership& members, bool allow_empty) {
  return members.empty() && !allow_empty ? Verdict::kRefuseEmpty : Verdict::kPublish;
}

}  // namespace fulcrum::discovery
