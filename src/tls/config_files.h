#pragma once

// The certificate, key and CA files a configuration names, loaded and checked the way the proxy
// will load them before anything runs on it: `fulcrum --check`, a start and a reload (SIGHUP or
// the admin API) reject a bad file at the position of the key naming it, and a running proxy
// keeps its configuration. The loader (config) only parses and records those positions: reading
// the files is TLS's business, and config sits below tls.

#include <string>
#include <string_view>

#include "config/config.h"

namespace fulcrum::tls {

/// Adds an error "FILE:LINE:COLUMN: reason" to `errors` for every file that fails.
void check_config_files(const config::Config& config, config::ConfigErrors& errors);
/// Throws config::ConfigError listing every file that fails, in file order.
void check_config_files(const config::Config& config);

/// config::load_config_file, then check_config_files: how every configuration the proxy runs or
/// checks is loaded. Throws one config::ConfigError listing the problems of both, in file order.
config::Config load_checked_config_file(const std::string& path);
/// config::load_config_string, then check_config_files. Throws config::ConfigError.
config::Config load_checked_config_string(std::string_view yaml, const std::string& name);

}  // namespace fulcrum::tls
