// Entry points of the configuration loader: YAML parsing, the top-level keys, and errors.

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "config/config.h"
#include "config/sections.h"

namespace fulcrum::config {
namespace {

constexpr uint64_t kMaxWorkers = 1024;
constexpr std::string_view kLogFormats[] = {"text", "json"};

uint32_t default_workers() {
  // hardware_concurrency() may return 0 when it cannot tell.
  const uint64_t cores = std::thread::hardware_concurrency();
  return static_cast<uint32_t>(std::clamp<uint64_t>(cores, 1, kMaxWorkers));
}

AccessLogConfig read_access_log(const detail::Source& source, const detail::Field& field) {
  const detail::MapReader m(source, field, schema::kAccessLog);
  AccessLogConfig log;
  if (const auto* f = m.find("enabled")) {
    source.recover([&] { log.enabled = detail::read_bool(source, *f); });
  }
  if (const auto* f = m.find("format")) {
    source.recover([&] {
      log.format = detail::read_choice(source, *f, kLogFormats) == 0 ? AccessLogFormat::kText
                                                                     : AccessLogFormat::kJson;
    });
  }
  if (const auto* f = m.find("path")) {
    source.recover([&] { log.path = detail::read_string(source, *f); });
  }
  return log;
}

// Loopback listeners may serve reads without a token; anything else exposes the API.
bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

std::string read_token(const detail::Source& source, const detail::Field& field,
                       const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    source.fail(field.mark(),
                fmt::format("cannot read token file '{}': {}", path, std::strerror(errno)));
  }
  // Bounded: a wrong path (/dev/zero, a log file) must not make --check read forever.
  constexpr std::size_t kMaxTokenFileBytes = 4096;
  std::string token(kMaxTokenFileBytes + 1, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<std::size_t>(in.gcount()));
  if (token.size() > kMaxTokenFileBytes) {
    source.fail(field.mark(), fmt::format("token file '{}' is larger than 4 KiB", path));
  }
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    source.fail(field.mark(), fmt::format("token file '{}' is empty", path));
  }
  token = token.substr(first, token.find_last_not_of(" \t\r\n") + 1 - first);
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    source.fail(field.mark(), fmt::format("token file '{}' holds more than one word", path));
  }
  return token;
}

AdminConfig read_admin(const detail::Source& source, const detail::Field& field) {
  const detail::MapReader m(source, field, schema::kAdmin);
  AdminConfig admin;
  admin.enabled = true;
  const detail::Field& listen = m.require("listen");
  const std::string text = detail::read_string(source, listen);
  const bool listen_read = source.recover([&] {
    std::string reason;
    const auto host_port = parse_host_port(text, 0, &reason);
    if (!host_port) {
      source.fail(listen.mark(), fmt::format("invalid listen address '{}': {}", text, reason));
    }
    if (!is_ip_address(host_port->host)) {
      source.fail(listen.mark(), fmt::format("admin listen address '{}' must be an IP address, "
                                             "not a name",
                                             text));
    }
    admin.host = host_port->host;
    admin.port = host_port->port;
    admin.loopback = is_loopback(admin.host);
  });
  if (const auto* f = m.find("token_file")) {
    source.recover([&] {
      // Relative to the configuration file, so a config and its token can move together.
      // "" is allowed here: it keeps the journal in memory only.
      const bool empty = f->value.IsScalar() && f->value.Scalar().empty();
      std::filesystem::path path(empty ? std::string() : detail::read_string(source, *f));
      if (path.is_relative()) path = std::filesystem::path(source.name()).parent_path() / path;
      admin.token_file = path.string();
      admin.token = read_token(source, *f, admin.token_file);
    });
  } else if (listen_read && !admin.loopback) {
    source.report(listen.mark(), fmt::format("admin listen address '{}' is not a loopback "
                                             "address: a 'token_file' is required",
                                             text));
  }
  if (const auto* f = m.find("state_file")) {
    source.recover([&] {
      // "" is allowed here: it keeps the journal in memory only.
      const bool empty = f->value.IsScalar() && f->value.Scalar().empty();
      std::filesystem::path path(empty ? std::string() : detail::read_string(source, *f));
      if (!path.empty() && path.is_relative()) {
        path = std::filesystem::path(source.name()).parent_path() / path;
      }
      admin.state_file = path.string();
    });
  }
  return admin;
}

std::string format_what(const std::string& file, int line, int column, const std::string& message) {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::vector<std::string> what_lines(const std::vector<ConfigError>& errors) {
  std::vector<std::string> lines;
  for (const ConfigError& e : errors) lines.emplace_back(e.what());
  return lines;
}

// Every top-level key is read on its own, so a problem in one section does not hide those in
// the next. Clusters come first: listeners name them.
void read_document(const detail::Source& source, std::string_view yaml, Config& config) {
  const std::optional<YAML::Node> document = detail::load_document(source, yaml);
  if (!document) {
    source.fail(YAML::Mark(), "the configuration is empty (expected 'listeners' and 'clusters')");
  }
  const detail::MapReader top(source, detail::Field{"", *document, std::nullopt},
                              schema::kTopLevel);
  if (const auto* f = top.find("workers")) {
    source.recover([&] {
      config.workers = static_cast<uint32_t>(detail::read_uint(source, *f, 1, kMaxWorkers));
    });
  }
  const bool clusters_read = source.recover(
      [&] { config.clusters = detail::parse_clusters(source, top.require("clusters")); });
  source.recover([&] {
    // Without the clusters, every name a listener gives would be reported unknown: don't.
    const auto* clusters = clusters_read ? &config.clusters : nullptr;
    config.listeners = detail::parse_listeners(source, top.require("listeners"), clusters);
  });
  if (const auto* f = top.find("access_log")) {
    source.recover([&] { config.access_log = read_access_log(source, *f); });
  }
  if (const auto* f = top.find("drain_timeout")) {
    source.recover(
        [&] { config.drain_timeout = detail::read_duration(source, *f, /*allow_zero=*/true); });
  }
  if (const auto* f = top.find("dns_refresh")) {
    source.recover(
        [&] { config.dns_refresh = detail::read_duration(source, *f, /*allow_zero=*/true); });
  }
  if (const auto* f = top.find("admin")) {
    source.recover([&] { config.admin = read_admin(source, *f); });
  }
  if (const auto* f = top.find("health_sharing")) {
    source.recover([&] { config.health_sharing = detail::read_health_sharing(source, *f); });
  }
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string message)
    : std::runtime_error(format_what(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

ConfigError::ConfigError(std::vector<ConfigError> shown, std::size_t total)
    : std::runtime_error(fmt::format("{}", fmt::join(what_lines(shown), "\n"))),
      file_(shown.front().file()),
      line_(shown.front().line()),
      column_(shown.front().column()),
      message_(shown.front().message()),
      list_(std::move(shown)),
      total_(total) {}

std::vector<ConfigError> ConfigError::errors() const {
  if (list_.empty()) return {*this};
  return list_;
}

void ConfigErrors::add(const ConfigError& error) {
  for (ConfigError& each : error.errors()) errors_.push_back(std::move(each));
}

void ConfigErrors::throw_if_any() const {
  if (errors_.empty()) return;
  std::vector<ConfigError> sorted = errors_;
  // Stable: problems found at one place keep the order they were found in.
  std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.line(), a.column()) < std::pair(b.line(), b.column());
  });
  const auto same = [](const ConfigError& a, const ConfigError& b) {
    return a.line() == b.line() && a.column() == b.column() && a.message() == b.message();
  };
  sorted.erase(std::unique(sorted.begin(), sorted.end(), same), sorted.end());
  if (sorted.size() == 1) throw sorted.front();
  const std::size_t total = sorted.size();
  if (sorted.size() > kMaxReported) sorted.erase(sorted.begin() + kMaxReported, sorted.end());
  throw ConfigError(std::move(sorted), total);
}

const ClusterConfig* Config::find_cluster(std::string_view name) const {
  for (const ClusterConfig& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Config load_config_string(std::string_view yaml, const std::string& name, ConfigErrors& errors) {
  const detail::Source source(name, &errors);
  Config config;
  config.source_path = name;
  config.workers = default_workers();
  try {
    source.recover([&] { read_document(source, yaml, config); });
  } catch (const detail::TooManyErrors&) {
    // Reported with the ones gathered so far.
  }
  return config;
}

Config load_config_file(const std::string& path, ConfigErrors& errors) {
  std::string text;
  try {
    text = detail::read_file(path);
  } catch (const ConfigError& e) {
    errors.add(e);
    Config config;
    config.source_path = path;
    return config;
  }
  return load_config_string(text, path, errors);
}

Config load_config_string(std::string_view yaml, const std::string& name) {
  ConfigErrors errors;
  Config config = load_config_string(yaml, name, errors);
  errors.throw_if_any();
  return config;
}

Config load_config_file(const std::string& path) {
  ConfigErrors errors;
  Config config = load_config_file(path, errors);
  errors.throw_if_any();
  return config;
}

}  // namespace fulcrum::config
