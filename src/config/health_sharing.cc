// Parsing of the top-level `health_sharing` mapping (docs/configuration.md).

#include <fmt/format.h>
#include <unistd.h>

#include <climits>

#include "config/etcd.h"
#include "config/sections.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

// Leases shorter than this expire between keepalives on a busy etcd; longer than an hour leave
// a dead instance's reports in place for too long to be useful.
constexpr core::Nanos kMinTtl = std::chrono::seconds(2);
constexpr core::Nanos kMaxTtl = std::chrono::hours(1);

std::string default_instance() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "fulcrum");
  }
  return fmt::format("{}-{}", host, getpid());
}

bool is_instance_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

HealthSharingConfig read_health_sharing(const Source& source, const Field& field) {
  const MapReader m(source, field, schema::kHealthSharing);
  HealthSharingConfig sharing;
  sharing.enabled = true;
  if (const Field* f = m.find("tls")) sharing.tls = read_etcd_tls(source, *f);
  if (const Field* f = m.find("auth")) sharing.auth = read_etcd_auth(source, *f);
  for (const Field& item : read_list(source, m.require("etcd"))) {
    sharing.endpoints.push_back(read_etcd_endpoint(source, item, sharing.tls));
  }
  if (const Field* f = m.find("prefix")) {
    sharing.prefix = read_string(source, *f);
    if (!sharing.prefix.starts_with('/') || sharing.prefix == "/") {
      source.fail(f->mark(), fmt::format("prefix '{}' must start with '/' and name something",
                                         sharing.prefix));
    }
    if (!sharing.prefix.ends_with('/')) sharing.prefix += '/';
  }
  if (const Field* f = m.find("quorum")) {
    sharing.quorum = static_cast<uint32_t>(read_uint(source, *f, 1, 1000));
  }
  if (const Field* f = m.find("instance")) {
    sharing.instance = read_string(source, *f);
    if (!is_instance_name(sharing.instance)) {
      source.fail(f->mark(), fmt::format("instance '{}' must be 1-128 letters, digits, '-', '.', "
                                         "'_' or ':' (it is one segment of an etcd key)",
                                         sharing.instance));
    }
  } else {
    sharing.instance = default_instance();
  }
  if (const Field* f = m.find("ttl")) {
    sharing.ttl = read_duration(source, *f, false);
    if (sharing.ttl < kMinTtl || sharing.ttl > kMaxTtl) {
      source.fail(f->mark(), "ttl must be between 2s and 1h");
    }
    if (sharing.ttl % std::chrono::seconds(1) != core::Nanos(0)) {
      source.fail(f->mark(), "ttl must be whole seconds (etcd leases count in seconds)");
    }
  }
  return sharing;
}

}  // namespace fulcrum::config::detail
