// Entry points of the configuration loader: YAML parsing, the top-level keys, and errors.

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
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

// An unquoted "[::1]:8080" is read as the start of a YAML list, and yaml-cpp's message
// ("end of map not found") does not say why; name the likely cause.
std::string ipv6_hint(std::string_view yaml, const YAML::Mark& mark) {
  std::size_t begin = 0;
  for (int line = 0; line < mark.line && begin != std::string_view::npos; ++line) {
    begin = yaml.find('\n', begin);
    if (begin != std::string_view::npos) ++begin;
  }
  if (begin == std::string_view::npos) return "";
  const std::string_view text = yaml.substr(begin, yaml.find('\n', begin) - begin);
  const std::size_t open = text.find(": [");
  if (open == std::string_view::npos) return "";
  const std::size_t close = text.find("]:", open);
  if (close == std::string_view::npos) return "";
  const std::string_view inside = text.substr(open + 3, close - open - 3);
  if (inside.find(':') == std::string_view::npos) return "";
  return " (quote IPv6 addresses: \"[::1]:8080\")";
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
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    source.fail(e.mark, e.msg + ipv6_hint(yaml, e.mark));
  }
  if (documents.empty()) {
    source.fail(YAML::Mark(), "the configuration is empty (expected 'listeners' and 'clusters')");
  }
  if (documents.size() > 1) {
    source.fail(documents[1].Mark(),
                fmt::format("expected one YAML document, found {}", documents.size()));
  }

  const detail::MapReader top(source, detail::Field{"", documents[0], std::nullopt},
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
  return config;
}

Config load_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(path, 0, 0, "cannot read: is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, fmt::format("cannot read: {}", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, 0, "cannot read: I/O error");
  return load_config_string(text.str(), path);
}

}  // namespace fulcrum::config
