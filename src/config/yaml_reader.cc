#include "config/yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/values.h"

namespace fulcrum::config::detail {
namespace {

constexpr std::string_view kDurationHint = "a duration like 500ms, 10s or 2m";

// Edit distance, to suggest the key the user probably meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
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

// The scalar text of a field, or an error naming what was expected.
const std::string& scalar(const Source& source, const Field& field, std::string_view expected) {
  if (!field.value.IsScalar()) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
  }
  return field.value.Scalar();
}

// Counts the documents of a YAML stream and notes where the second one's root is (for the
// error); `stuck` when a document starts where the previous one did (the parser made no progress).
class DocumentMarks : public YAML::EventHandler {
 public:
  int count = 0;
  bool stuck = false;
  YAML::Mark start;
  YAML::Mark second_root;

  void OnDocumentStart(const YAML::Mark& mark) override {
    stuck = count > 0 && mark.pos == start.pos;
    start = mark;
    ++count;
    root_seen_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (count == 2 && !root_seen_) second_root = mark;
    root_seen_ = true;
  }
  bool root_seen_ = false;
};

}  // namespace

std::string alternatives(std::span<const std::string_view> choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

Position position_of(const YAML::Mark& mark) {
  // A mark of -1 (yaml-cpp's null mark) would print as line 0; clamp to the file start instead.
  return {std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1};
}

void Source::fail(const YAML::Mark& mark, const std::string& message) const {
  const Position at = position_of(mark);
  throw ConfigError(name_, at.line, at.column, message);
}

void Source::report(const YAML::Mark& mark, const std::string& message) const {
  recover([&] { fail(mark, message); });
}

void Source::record(const ConfigError& error) const {
  // Far more than are shown: enough that the first ones in the file are among them.
  constexpr std::size_t kMaxGathered = 1000;
  errors_->add(error);
  if (errors_->size() >= kMaxGathered) throw TooManyErrors{};
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(path, 0, 0, "cannot read: is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, 0, 0, fmt::format("cannot read: {}", std::strerror(errno)));
  // Bounded: a wrong path (/dev/zero) must not make the loader read forever.
  constexpr std::size_t kMaxConfigBytes = 64 << 20;
  std::string text;
  char chunk[65536];
  while (text.size() <= kMaxConfigBytes && in.read(chunk, sizeof chunk).gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw ConfigError(path, 0, 0, "cannot read: I/O error");
  if (text.size() > kMaxConfigBytes) {
    throw ConfigError(path, 0, 0, "larger than 64 MiB: not a configuration file");
  }
  return text;
}

std::optional<YAML::Node> load_document(const Source& source, std::string_view yaml) {
  // Not YAML::LoadAll: yaml-cpp 0.7 loops forever, allocating, on texts such as "[], x }" (it
  // reports the same empty document again and again; fixed upstream in jbeder/yaml-cpp#1319).
  // Count the documents with a parser we can stop, then load the first.
  const std::string text(yaml);
  DocumentMarks documents;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(documents)) {
      if (documents.stuck) source.fail(documents.start, "invalid YAML: unexpected text here");
    }
  } catch (const YAML::Exception& e) {
    source.fail(e.mark, e.msg + ipv6_hint(yaml, e.mark));
  }
  if (documents.count == 0) return std::nullopt;
  if (documents.count > 1) {
    source.fail(documents.second_root,
                fmt::format("expected one YAML document, found {}", documents.count));
  }
  return YAML::Load(text);
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar: {
      constexpr std::size_t kMaxShown = 60;
      const std::string& text = node.Scalar();
      if (text.size() > kMaxShown) return "'" + text.substr(0, kMaxShown) + "...'";
      return "'" + text + "'";
    }
    default:
      return "nothing";
  }
}

MapReader::MapReader(const Source& source, const Field& field, const schema::Section& section)
    : source_(source), section_(section), mark_(field.mark()) {
  if (!field.value.IsMap()) {
    source.fail(field.mark(), fmt::format("expected a mapping for {}, got {}", section.name,
                                          describe(field.value)));
  }
  // Each bad key is reported and skipped, so the rest of the mapping is still read and checked.
  for (auto it = field.value.begin(); it != field.value.end(); ++it) {
    Field entry{"", it->second, it->first.Mark()};
    if (!it->first.IsScalar()) {
      source.report(it->first.Mark(), fmt::format("expected a key name in {}, got {}", section.name,
                                                  describe(it->first)));
      continue;
    }
    entry.key = it->first.Scalar();
    if (entry.key == "<<") {
      merged_ = true;
      source.report(entry.key_mark(),
                    "YAML merge keys ('<<') are not supported; repeat the keys, or use an anchor "
                    "for a whole value");
      continue;
    }
    const auto& keys = section.keys;
    if (std::find(keys.begin(), keys.end(), entry.key) == keys.end()) {
      std::string message = fmt::format("unknown key '{}' in {} (expected one of: {})", entry.key,
                                        section.name, fmt::join(keys, ", "));
      // Suggest the closest known key when it is close enough to be a typo.
      std::string_view best;
      std::size_t best_distance = 3;
      for (std::string_view known : keys) {
        const std::size_t d = edit_distance(entry.key, known);
        if (d < best_distance && d < known.size() / 2) {
          best = known;
          best_distance = d;
        }
      }
      if (!best.empty()) {
        message += fmt::format("; did you mean '{}'?", best);
        suggested_.push_back(best);
      }
      source.report(entry.key_mark(), message);
      continue;
    }
    if (const Field* first = find(entry.key)) {
      source.report(entry.key_mark(), fmt::format("duplicate key '{}' (first at line {})",
                                                  entry.key, line_of(first->key_mark())));
      continue;
    }
    fields_.push_back(std::move(entry));
  }
}

const Field* MapReader::find(std::string_view key) const {
  for (const Field& f : fields_) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

bool MapReader::misspelt(std::string_view key) const {
  return merged_ || std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
}

const Field& MapReader::require(std::string_view key) const {
  if (const Field* f = find(key)) return *f;
  if (misspelt(key)) throw AlreadyReported{};
  source_.fail(mark_, fmt::format("missing required key '{}' in {}", key, section_.name));
}

std::string read_string(const Source& source, const Field& field) {
  const std::string& text = scalar(source, field, "a string");
  if (text.empty()) source.fail(field.mark(), "expected a non-empty string");
  return text;
}

uint64_t read_uint(const Source& source, const Field& field, uint64_t min, uint64_t max) {
  const std::string expected = fmt::format("a whole number from {} to {}", min, max);
  const auto value = parse_uint(scalar(source, field, expected));
  if (!value || *value < min || *value > max) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
  }
  return *value;
}

int64_t read_int(const Source& source, const Field& field, int64_t min, int64_t max) {
  const std::string expected = fmt::format("a whole number from {} to {}", min, max);
  const std::string& text = scalar(source, field, expected);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
  }
  return value;
}

double read_positive_number(const Source& source, const Field& field) {
  constexpr std::string_view kExpected = "a number greater than 0";
  const std::string& text = scalar(source, field, kExpected);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value) || value <= 0) {
    source.fail(field.mark(), fmt::format("expected {}, got {}", kExpected, describe(field.value)));
  }
  return value;
}

uint64_t read_size(const Source& source, const Field& field, uint64_t min, uint64_t max) {
  const auto value = parse_size(scalar(source, field, "a size like 16384, 16k or 1m"));
  if (!value) {
    source.fail(field.mark(), fmt::format("expected a size like 16384, 16k or 1m, got {}",
                                          describe(field.value)));
  }
  if (*value < min || *value > max) {
    source.fail(field.mark(), fmt::format("expected a size from {} to {}, got {}", format_size(min),
                                          format_size(max), describe(field.value)));
  }
  return *value;
}

core::Nanos read_duration(const Source& source, const Field& field, bool allow_zero,
                          DurationSyntax syntax) {
  const std::string& text = scalar(source, field, kDurationHint);
  const auto value = parse_duration(text, syntax);
  if (!value) {
    // A bare number is the likeliest mistake; say what is missing.
    const bool bare_number = parse_uint(text).has_value();
    source.fail(field.mark(),
                fmt::format("expected {}, got {}{}", kDurationHint, describe(field.value),
                            bare_number ? " (a unit is required)" : ""));
  }
  if (!allow_zero && value->count() == 0) {
    source.fail(field.mark(),
                fmt::format("expected a duration greater than 0, got {}", describe(field.value)));
  }
  return *value;
}

bool read_bool(const Source& source, const Field& field) {
  const std::string& text = scalar(source, field, "true or false");
  if (text == "true") return true;
  if (text == "false") return false;
  source.fail(field.mark(), fmt::format("expected true or false, got {}", describe(field.value)));
}

std::size_t read_choice(const Source& source, const Field& field,
                        std::span<const std::string_view> choices) {
  const std::string expected = alternatives(choices);
  const std::string& text = scalar(source, field, expected);
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == text) return i;
  }
  source.fail(field.mark(), fmt::format("expected {}, got {}", expected, describe(field.value)));
}

std::vector<Field> read_list(const Source& source, const Field& field, bool allow_empty) {
  if (!field.value.IsSequence()) {
    source.fail(field.mark(),
                fmt::format("expected a list for '{}', got {}", field.key, describe(field.value)));
  }
  if (field.value.size() == 0 && !allow_empty) {
    source.fail(field.mark(), fmt::format("'{}' must not be empty", field.key));
  }
  std::vector<Field> items;
  for (const YAML::Node& item : field.value) items.push_back(Field{"", item, std::nullopt});
  return items;
}

}  // namespace fulcrum::config::detail
