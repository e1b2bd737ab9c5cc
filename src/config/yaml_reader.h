#pragma once

// Position-aware access to a parsed YAML tree: every accessor either returns a checked value or
// throws ConfigError pointing at the offending node. Used by the loader and by fulcrum-sim, so
// that both read their files by the same rules. The loader's Source gathers errors: its readers
// wrap each key and item in Source::recover, which records the error and lets reading go on.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/schema.h"
#include "config/values.h"
#include "core/clock.h"

namespace fulcrum::config::detail {

/// Thrown when a file holds so many errors that gathering more is pointless (a binary file, the
/// wrong file): the loader stops and reports the ones found.
struct TooManyErrors {};

/// Thrown instead of an error that would only repeat one already recorded (a required key that
/// is absent because it was misspelt): the caller's recover() skips it without recording.
struct AlreadyReported {};

/// Names the file in errors, and decides what an error does. By default the first error throws.
/// With a ConfigErrors list (the loader's way) errors are gathered: a failure still throws, out
/// to the nearest recover(), which records it and lets parsing go on with what follows, so one
/// run finds every problem.
class Source {
 public:
  explicit Source(std::string name, ConfigErrors* errors = nullptr)
      : name_(std::move(name)), errors_(errors) {}
  const std::string& name() const { return name_; }
  /// Throws ConfigError at `mark` (0-based, as yaml-cpp reports it).
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const;
  /// An error after which the reader can go on where it is (an unknown key: the key is skipped):
  /// recorded when gathering, thrown otherwise.
  void report(const YAML::Mark& mark, const std::string& message) const;

  /// Runs `read`. When gathering, an error it throws is recorded and false returned: what `read`
  /// would have set keeps its default, and the caller goes on to the next key or item.
  /// Otherwise the error propagates.
  template <typename Read>
  bool recover(Read&& read) const {
    if (errors_ == nullptr) {
      read();
      return true;
    }
    try {
      read();
      return true;
    } catch (const ConfigError& e) {
      record(e);
      return false;
    } catch (const AlreadyReported&) {
      return false;
    }
  }

 private:
  void record(const ConfigError& error) const;

  std::string name_;
  ConfigErrors* errors_;
};

/// The contents of the file at `path`. Throws ConfigError without a position when it cannot be
/// read.
std::string read_file(const std::string& path);

/// Parses `yaml` as one YAML document; a syntax error or a second document fails at its position.
/// nullopt when the text holds no document at all (empty, or only comments).
std::optional<YAML::Node> load_document(const Source& source, std::string_view yaml);

/// A value together with the key it was found under (empty for list items and the root).
struct Field {
  std::string key;
  YAML::Node value;
  std::optional<YAML::Mark> key_position;

  /// Where to point at the value. yaml-cpp marks an empty value at the next token, often on a
  /// later line, so an empty value is reported at its key instead.
  YAML::Mark mark() const { return value.IsNull() && key_position ? *key_position : value.Mark(); }
  YAML::Mark key_mark() const { return key_position.value_or(value.Mark()); }
};

/// "a mapping", "a list", "nothing" or the quoted scalar, for "got ..." in messages.
std::string describe(const YAML::Node& node);

/// "a or b", "a, b or c".
std::string alternatives(std::span<const std::string_view> choices);

/// A mark as the 1-based Position errors report (yaml-cpp's null mark: the file start).
Position position_of(const YAML::Mark& mark);

/// 1-based line of a mark, for "first defined at line N".
inline int line_of(const YAML::Mark& mark) { return mark.line + 1; }

/// A mapping checked against a schema section: not a mapping, an unknown key and a repeated key
/// are all errors.
class MapReader {
 public:
  MapReader(const Source& source, const Field& field, const schema::Section& section);

  /// nullptr when the key is absent.
  const Field* find(std::string_view key) const;
  /// Fails with "missing required key" when absent.
  const Field& require(std::string_view key) const;
  /// Whether `key` may be absent only because of an error already reported (an unknown key
  /// suggested as it, a rejected merge key): checks of its absence should stay quiet.
  bool misspelt(std::string_view key) const;
  /// The mapping's own position (its first key, or '{').
  YAML::Mark mark() const { return mark_; }

 private:
  const Source& source_;
  const schema::Section& section_;
  YAML::Mark mark_;
  std::vector<Field> fields_;
  // Keys that may be absent only because of an error already reported: offered for a misspelt
  // key ("did you mean"), or any key when a merge key ('<<') was rejected.
  std::vector<std::string_view> suggested_;
  bool merged_ = false;
};

std::string read_string(const Source& source, const Field& field);
/// A plain whole number in [min, max].
uint64_t read_uint(const Source& source, const Field& field, uint64_t min, uint64_t max);
/// A whole number in [min, max], optionally negative ("-1").
int64_t read_int(const Source& source, const Field& field, int64_t min, int64_t max);
/// A finite decimal number greater than 0 ("1000", "0.5", "2e3").
double read_positive_number(const Source& source, const Field& field);
/// A size ("16384", "16k", "1m") in [min, max].
uint64_t read_size(const Source& source, const Field& field, uint64_t min, uint64_t max);
/// A duration; zero is rejected unless `allow_zero`.
core::Nanos read_duration(const Source& source, const Field& field, bool allow_zero,
                          DurationSyntax syntax = DurationSyntax::kWhole);
bool read_bool(const Source& source, const Field& field);
/// Index of the scalar's value in `choices`.
std::size_t read_choice(const Source& source, const Field& field,
                        std::span<const std::string_view> choices);
/// The items of a list, each as a Field without key. Empty lists are rejected unless
/// `allow_empty`.
std::vector<Field> read_list(const Source& source, const Field& field, bool allow_empty = false);

}  // namespace fulcrum::config::detail
