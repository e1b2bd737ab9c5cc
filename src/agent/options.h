#pragma once

// fulcrum-agent's settings and the parsing of the values its command line takes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/answer.h"
#include "discovery/etcd_client.h"

namespace fulcrum::agent {

enum class LoadSource : uint8_t { kLoadAverage, kCpu };

struct AgentOptions {
  std::string listen_host = "0.0.0.0";  ///< An IP address literal.
  uint16_t listen_port = 1510;          ///< Equalizer's default agent port; 0: any free port.
  AnswerFormat format = AnswerFormat::kEqualizer;
  LoadSource load_source = LoadSource::kLoadAverage;
  std::string command;  ///< Non-empty: answer the first line this /bin/sh command prints.
  std::chrono::milliseconds command_timeout{1000};
  std::string file;  ///< Non-empty: answer this file's first line while it has one.
};

/// Self-registration in etcd (--register): the key PREFIX/ADDR:PORT, held by a lease, that
/// etcd discovery (docs/discovery.md) reads.
struct RegistrationOptions {
  std::vector<discovery::EtcdEndpoint> endpoints;
  discovery::EtcdAccess access;  ///< TLS (--etcd-ca-file...) and authentication (--etcd-username).
  std::string key_prefix;        ///< "/PREFIX/CLUSTER/": ends with '/'.
  std::string advertise;         ///< "HOST:PORT" as proxies should connect to it.
  std::chrono::seconds ttl{10};
  uint32_t weight = 1;
  bool drain_on_exit = false;
  std::chrono::milliseconds drain_wait{2000};

  std::string key() const { return key_prefix + advertise; }
};

/// The target of --register: "etcd://HOST:PORT[,HOST:PORT...]/PREFIX/CLUSTER". Fills
/// `endpoints` and `key_prefix`; false with the reason in `error`.
bool parse_register_target(std::string_view url, RegistrationOptions& out, std::string& error);

/// The --etcd-* flags: `access` as given, `tls` when --etcd-tls or any TLS flag was given (then
/// every endpoint speaks TLS). Checks that cert and key come together, that a username has a
/// readable password file and the other way round; false with the reason in `error`.
bool set_etcd_access(discovery::EtcdAccess access, bool tls, RegistrationOptions& out,
                     std::string& error);

/// --advertise: "HOST:PORT" (HOST a name or an address, IPv6 in brackets), port 1..65535.
std::optional<std::string> parse_advertise_address(std::string_view text, std::string& error);

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

/// "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). HOST must be an IP address.
/// Empty on error, with the reason in `error`.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

/// "250ms", "2s" or a bare number of milliseconds; at least 1 ms and at most one hour.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

}  // namespace fulcrum::agent
