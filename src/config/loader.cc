// Entry points of the configuration loader: YAML parsing, the top-level keys, and errors.

#include <fmt/format.h>

#include <algorithm>
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
  if (const auto* f = m.find("enabled")) log.enabled = detail::read_bool(source, *f);
  if (const auto* f = m.find("format")) {
    log.format = detail::read_choice(source, *f, kLogFormats) == 0 ? AccessLogFormat::kText
                                                                   : AccessLogFormat::kJson;
  }
  if (const auto* f = m.find("path")) log.path = detail::read_string(source, *f);
  return log;
}

std::string format_what(const std::string& file, int line, int column, const std::string& message) {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string message)
    : std::runtime_error(format_what(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      message_(std::move(message)) {}

const ClusterConfig* Config::find_cluster(std::string_view name) const {
  for (const ClusterConfig& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Config load_config_string(std::string_view yaml, const std::string& name) {
  const detail::Source source(name);
  const std::optional<YAML::Node> document = detail::load_document(source, yaml);
  if (!document) {
    source.fail(YAML::Mark(), "the configuration is empty (expected 'listeners' and 'clusters')");
  }

  const detail::MapReader top(source, detail::Field{"", *document, std::nullopt},
                              schema::kTopLevel);
  Config config;
  config.source_path = name;
  config.workers = default_workers();
  if (const auto* f = top.find("workers")) {
    config.workers = static_cast<uint32_t>(detail::read_uint(source, *f, 1, kMaxWorkers));
  }
  // Clusters first: listeners name them.
  config.clusters = detail::parse_clusters(source, top.require("clusters"));
  config.listeners = detail::parse_listeners(source, top.require("listeners"), config.clusters);
  if (const auto* f = top.find("access_log")) config.access_log = read_access_log(source, *f);
  if (const auto* f = top.find("drain_timeout")) {
    config.drain_timeout = detail::read_duration(source, *f, /*allow_zero=*/true);
  }
  if (const auto* f = top.find("dns_refresh")) {
    config.dns_refresh = detail::read_duration(source, *f, /*allow_zero=*/true);
  }
  return config;
}

Config load_config_file(const std::string& path) {
  return load_config_string(detail::read_file(path), path);
}

}  // namespace fulcrum::config
