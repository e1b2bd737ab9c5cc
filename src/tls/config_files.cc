#include "tls/config_files.h"

#include <vector>

#include "tls/certificate.h"

namespace fulcrum::tls {
namespace {

config::ConfigError error_at(const config::Config& config, config::Position at, const TlsError& e) {
  return config::ConfigError(config.source_path, at.line, at.column, e.what());
}

// Each failure points at the key naming the file it concerns: the chain and its expiry at `cert`,
// the private key and whether it matches at `key`.
void check_certificate(const config::Config& config, const config::TlsCertificateFiles& files,
                       config::ConfigErrors& errors) {
  std::vector<X509Ptr> chain;
  try {
    chain = load_certificate_chain(files.cert);
    check_not_expired(chain.front().get(), files.cert);
  } catch (const TlsError& e) {
    errors.add(error_at(config, files.cert_at, e));
  }
  try {
    const EvpPkeyPtr key = load_private_key(files.key);
    // Without its certificate, whether the key matches cannot be told.
    if (!chain.empty()) check_key_matches(chain.front().get(), key.get(), files.cert, files.key);
  } catch (const TlsError& e) {
    errors.add(error_at(config, files.key_at, e));
  }
}

void check_ca_file_at(const config::Config& config, const std::string& path, config::Position at,
                      config::ConfigErrors& errors) {
  try {
    check_ca_file(path);
  } catch (const TlsError& e) {
    errors.add(error_at(config, at, e));
  }
}

// etcd's `tls` (discovery and health_sharing): the CA file and the client certificate.
void check_etcd_tls(const config::Config& config, const config::EtcdTlsConfig& tls,
                    config::ConfigErrors& errors) {
  if (!tls.ca_file.empty()) check_ca_file_at(config, tls.ca_file, tls.ca_file_at, errors);
  if (!tls.client_certificate.cert.empty()) {
    check_certificate(config, tls.client_certificate, errors);
  }
}

config::Config checked(config::Config config, config::ConfigErrors& errors) {
  check_config_files(config, errors);
  errors.throw_if_any();
  return config;
}

}  // namespace

void check_config_files(const config::Config& config, config::ConfigErrors& errors) {
  for (const config::ClusterConfig& cluster : config.clusters) {
    if (cluster.tls.ca_file.empty()) continue;
    try {
      check_ca_file(cluster.tls.ca_file);
    } catch (const TlsError& e) {
      errors.add(error_at(config, cluster.tls.ca_file_at, e));
    }
  }
  for (const config::ListenerConfig& listener : config.listeners) {
    for (const config::TlsCertificateFiles& files : listener.tls.certificates) {
      check_certificate(config, files, errors);
    }
  }
  for (const config::ClusterConfig& cluster : config.clusters) {
    check_etcd_tls(config, cluster.discovery.etcd_tls, errors);
  }
  check_etcd_tls(config, config.health_sharing.tls, errors);
}

void check_config_files(const config::Config& config) {
  config::ConfigErrors errors;
  check_config_files(config, errors);
  errors.throw_if_any();
}

// The files of a configuration with errors are checked too (those of the sections that could
// be read), so that one run reports both.
config::Config load_checked_config_file(const std::string& path) {
  config::ConfigErrors errors;
  return checked(config::load_config_file(path, errors), errors);
}

config::Config load_checked_config_string(std::string_view yaml, const std::string& name) {
  config::ConfigErrors errors;
  return checked(config::load_config_string(yaml, name, errors), errors);
}

}  // namespace fulcrum::tls
