#pragma once

// The etcd connection settings etcd discovery and health_sharing share: the endpoints
// (HOST:PORT, http:// or https://, as etcdctl takes them), `tls` and `auth`
// (docs/discovery.md, "etcd with TLS and authentication"). The TLS files are checked later,
// by tls::check_config_files, at the positions recorded here.

#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace fulcrum::config::detail {

/// The `tls` mapping beside etcd endpoints: ca_file, cert and key (together), sni.
EtcdTlsConfig read_etcd_tls(const Source& source, const Field& field);

/// The `auth` mapping beside etcd endpoints: username and password_file, both required; the
/// password file must be readable and not empty.
EtcdAuthConfig read_etcd_auth(const Source& source, const Field& field);

/// One etcd endpoint, canonical: "host:port" for plain HTTP, "https://host:port" for TLS (with
/// `tls` enabled, every endpoint; "http://" is then an error).
std::string read_etcd_endpoint(const Source& source, const Field& field, const EtcdTlsConfig& tls);

}  // namespace fulcrum::config::detail
