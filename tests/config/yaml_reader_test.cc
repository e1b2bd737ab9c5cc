// The reader functions that only fulcrum-sim uses so far (the proxy configuration has no signed
// or fractional numbers): each checked directly, with the position its error points at.
#include "config/yaml_reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/config.h"

namespace fulcrum::config::detail {
namespace {

using namespace std::chrono_literals;

const Source kSource("t.yaml");

// The value of `key` in a one-line mapping, with the key's position as MapReader records it.
Field field_of(const std::string& yaml, const std::string& key = "v") {
  const YAML::Node root = YAML::Load(yaml);
  for (const auto& entry : root) {
    if (entry.first.Scalar() == key) return Field{key, entry.second, entry.first.Mark()};
  }
  ADD_FAILURE() << "no key " << key;
  return Field{};
}

template <typename Read>
std::string error_of(Read read) {
  try {
    read();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ReadInt, AcceptsNegativeNumbersWithinRange) {
  EXPECT_EQ(read_int(kSource, field_of("v: -1"), -1, 100), -1);
  EXPECT_EQ(read_int(kSource, field_of("v: 100"), -1, 100), 100);
  EXPECT_EQ(read_int(kSource, field_of("v: 0"), -1, 100), 0);
}

TEST(ReadInt, RejectsOutOfRangeAndMalformed) {
  for (const char* text : {"v: 101", "v: -2", "v: 1.5", "v: +1", "v: 1x", "v: ''"}) {
    EXPECT_EQ(error_of([&] { read_int(kSource, field_of(text), -1, 100); }),
              fmt::format("t.yaml:1:4: expected a whole number from -1 to 100, got '{}'",
                          YAML::Load(text)["v"].Scalar()))
        << text;
  }
  EXPECT_EQ(error_of([] { read_int(kSource, field_of("v: [1]"), -1, 100); }),
            "t.yaml:1:4: expected a whole number from -1 to 100, got a list");
  // An empty value is reported at its key.
  EXPECT_EQ(error_of([] { read_int(kSource, field_of("v:"), -1, 100); }),
            "t.yaml:1:1: expected a whole number from -1 to 100, got nothing");
}

TEST(ReadPositiveNumber, AcceptsDecimalsAndExponents) {
  EXPECT_EQ(read_positive_number(kSource, field_of("v: 1000")), 1000.0);
  EXPECT_EQ(read_positive_number(kSource, field_of("v: 0.5")), 0.5);
  EXPECT_EQ(read_positive_number(kSource, field_of("v: 2e3")), 2000.0);
}

TEST(ReadPositiveNumber, RejectsZeroNegativeAndNonFinite) {
  for (const char* text : {"v: 0", "v: -1", "v: inf", "v: nan", "v: 1k", "v: +5", "v: 0x10"}) {
    EXPECT_EQ(error_of([&] { read_positive_number(kSource, field_of(text)); }),
              fmt::format("t.yaml:1:4: expected a number greater than 0, got '{}'",
                          YAML::Load(text)["v"].Scalar()))
        << text;
  }
}

TEST(ReadDuration, FineSyntaxOnlyWhenAsked) {
  EXPECT_EQ(read_duration(kSource, field_of("v: 1.5ms"), false, DurationSyntax::kFine), 1500us);
  EXPECT_EQ(read_duration(kSource, field_of("v: 0"), true, DurationSyntax::kFine), 0ns);
  EXPECT_EQ(error_of([] { read_duration(kSource, field_of("v: 1.5ms"), false); }),
            "t.yaml:1:4: expected a duration like 500ms, 10s or 2m, got '1.5ms'");
  EXPECT_EQ(
      error_of([] { read_duration(kSource, field_of("v: 0ns"), false, DurationSyntax::kFine); }),
      "t.yaml:1:4: expected a duration greater than 0, got '0ns'");
}

TEST(ReadList, EmptyOnlyWhenAllowed) {
  EXPECT_TRUE(read_list(kSource, field_of("v: []"), /*allow_empty=*/true).empty());
  EXPECT_EQ(read_list(kSource, field_of("v: [a, b]"), /*allow_empty=*/true).size(), 2u);
  EXPECT_EQ(error_of([] { read_list(kSource, field_of("v: []")); }),
            "t.yaml:1:4: 'v' must not be empty");
  EXPECT_EQ(error_of([] { read_list(kSource, field_of("v: {}"), /*allow_empty=*/true); }),
            "t.yaml:1:4: expected a list for 'v', got a mapping");
}

// yaml-cpp 0.7's LoadAll loops forever on these (found by fuzz_config; see load_document).
TEST(LoadDocument, TextTheParserCannotGetPastIsAnErrorNotAHang) {
  EXPECT_EQ(error_of([] { load_document(kSource, "[], x }\n"); }),
            "t.yaml:1:3: invalid YAML: unexpected text here");
  EXPECT_EQ(error_of([] { load_document(kSource, ",\n"); }),
            "t.yaml:1:1: invalid YAML: unexpected text here");
}

TEST(LoadDocument, NoDocumentIsNotAnError) {
  EXPECT_FALSE(load_document(kSource, "").has_value());
  EXPECT_FALSE(load_document(kSource, "# only a comment\n").has_value());
  const auto document = load_document(kSource, "a: 1\n");
  ASSERT_TRUE(document.has_value());
  EXPECT_EQ((*document)["a"].Scalar(), "1");
  EXPECT_EQ(error_of([] { load_document(kSource, "a: 1\n---\nb: 2\n"); }),
            "t.yaml:3:1: expected one YAML document, found 2");
}

}  // namespace
}  // namespace fulcrum::config::detail
