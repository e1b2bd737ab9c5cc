#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace fulcrum::sim {

/// A problem in an input file. The message starts with "file:line:column: " (1-based, as
/// compilers print them) whenever the position is known.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads one YAML document strictly: every map's keys are checked against the allowed set, every
/// value against its expected type, and every problem becomes a ConfigError that names the file
/// and position. Strict because a misspelt key silently ignored is a simulation of the wrong thing.
class YamlReader {
 public:
  /// `file` is used only in messages.
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  /// Reads and parses file(). Throws ConfigError if it cannot be read or parsed.
  YAML::Node load_file() const;
  /// Parses `text` as if it were the contents of file().
  YAML::Node load_text(const std::string& text) const;

  [[noreturn]] void fail(const YAML::Mark& at, std::string_view message) const;
  [[noreturn]] void fail(const YAML::Node& at, std::string_view message) const {
    fail(at.Mark(), message);
  }

  /// `node` must be a mapping whose keys are unique and all in `allowed`. `what` names the
  /// mapping in messages ("server", "event").
  void expect_map(const YAML::Node& node, std::string_view what,
                  std::initializer_list<std::string_view> allowed) const;
  void expect_sequence(const YAML::Node& node, std::string_view what) const;
  /// map[key], which must be present.
  YAML::Node required(const YAML::Node& map, std::string_view key, std::string_view what) const;

  std::string string(const YAML::Node& node, std::string_view what) const;
  uint64_t unsigned_integer(const YAML::Node& node, std::string_view what, uint64_t min,
                            uint64_t max) const;
  int64_t integer(const YAML::Node& node, std::string_view what, int64_t min, int64_t max) const;
  /// A finite number greater than zero.
  double positive_number(const YAML::Node& node, std::string_view what) const;
  bool boolean(const YAML::Node& node, std::string_view what) const;
  core::Nanos duration(const YAML::Node& node, std::string_view what) const;

 private:
  const std::string file_;
};

}  // namespace fulcrum::sim
