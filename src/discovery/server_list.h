#pragma once

// The server list a `file` discovery source reads: a YAML or JSON list of
//   {address: "host:port", weight: N, backup: bool, drain: bool}
// checked as strictly as the configuration, with file:line:column errors.

#include <string>
#include <string_view>

#include "discovery/source.h"

namespace fulcrum::discovery {

/// Parses `text` (named `name` in errors). An empty list ("[]") is a valid, empty membership; an
/// empty document is an error, since it is what a reader sees while an editor truncates and
/// rewrites a file in place. Throws config::ConfigError. Sorted by address.
Membership parse_server_list(std::string_view text, const std::string& name);

}  // namespace fulcrum::discovery
