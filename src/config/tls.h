#pragma once

// Parsing of the `tls` sections of listeners and clusters. Certificate, key and CA files are
// not read here: their paths are resolved and their positions recorded for
// tls::check_config_files, so `fulcrum --check` and a reload reject a bad file at its position.

#include "config/config.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

/// A file path, resolved against the configuration file's directory; never empty.
std::string read_path(const Source& source, const Field& field);

/// A listener's `tls` mapping; `mode` chooses the ALPN default (http/1.1 for http, none for tcp).
TlsListenerConfig read_listener_tls(const Source& source, const Field& field, ListenerMode mode);

/// A cluster's `tls` mapping; its presence turns TLS to the servers on unless `enabled: false`.
TlsClusterConfig read_cluster_tls(const Source& source, const Field& field);

}  // namespace fulcrum::config::detail
