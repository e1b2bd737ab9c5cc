#include "sim/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/duration.h"

namespace fulcrum::sim {

namespace {

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace

YAML::Node YamlReader::load_file() const {
  std::ifstream in(file_);
  if (!in) throw ConfigError(fmt::format("{}: cannot open file", file_));
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str());
}

YAML::Node YamlReader::load_text(const std::string& text) const {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    fail(e.mark, e.msg);
  }
  if (root.IsNull()) fail(YAML::Mark::null_mark(), "empty document");
  if (!root.IsMap()) fail(root, "expected a mapping of keys to values at the top level");
  return root;
}

void YamlReader::fail(const YAML::Mark& at, std::string_view message) const {
  if (at.is_null()) throw ConfigError(fmt::format("{}: {}", file_, message));
  throw ConfigError(fmt::format("{}:{}:{}: {}", file_, at.line + 1, at.column + 1, message));
}

void YamlReader::expect_map(const YAML::Node& node, std::string_view what,
                            std::initializer_list<std::string_view> allowed) const {
  if (!node.IsMap()) fail(node, fmt::format("{} must be a mapping of keys to values", what));
  std::set<std::string> seen;
  // Range-for rather than iterator->: GCC 12 misreads yaml-cpp's operator-> proxy as dangling.
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) fail(key, fmt::format("{} keys must be plain names", what));
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      fail(key,
           fmt::format("unknown key '{}' in {} (expected one of: {})", name, what, join(allowed)));
    }
    if (!seen.insert(name).second) fail(key, fmt::format("duplicate key '{}' in {}", name, what));
  }
}

void YamlReader::expect_sequence(const YAML::Node& node, std::string_view what) const {
  if (!node.IsSequence()) fail(node, fmt::format("{} must be a list", what));
}

YAML::Node YamlReader::required(const YAML::Node& map, std::string_view key,
                                std::string_view what) const {
  YAML::Node value = map[std::string(key)];
  if (!value) fail(map, fmt::format("{} is missing required key '{}'", what, key));
  return value;
}

std::string YamlReader::string(const YAML::Node& node, std::string_view what) const {
  if (!node.IsScalar() || node.Scalar().empty()) {
    fail(node, fmt::format("'{}' must be a non-empty string", what));
  }
  return node.Scalar();
}

uint64_t YamlReader::unsigned_integer(const YAML::Node& node, std::string_view what, uint64_t min,
                                      uint64_t max) const {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    fail(node,
         fmt::format("'{}' must be a whole number from {} to {}, got '{}'", what, min, max, text));
  }
  return value;
}

int64_t YamlReader::integer(const YAML::Node& node, std::string_view what, int64_t min,
                            int64_t max) const {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    fail(node,
         fmt::format("'{}' must be a whole number from {} to {}, got '{}'", what, min, max, text));
  }
  return value;
}

double YamlReader::positive_number(const YAML::Node& node, std::string_view what) const {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value <= 0) {
    fail(node, fmt::format("'{}' must be a number greater than 0, got '{}'", what, text));
  }
  return value;
}

bool YamlReader::boolean(const YAML::Node& node, std::string_view what) const {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  if (text == "true") return true;
  if (text == "false") return false;
  fail(node, fmt::format("'{}' must be true or false, got '{}'", what, text));
}

core::Nanos YamlReader::duration(const YAML::Node& node, std::string_view what) const {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  try {
    return parse_duration(text);
  } catch (const DurationError& e) {
    fail(node, fmt::format("'{}': {}", what, e.what()));
  }
}

}  // namespace fulcrum::sim
