#pragma once

// Prometheus text exposition format 0.0.4: families written whole (HELP, TYPE, then every
// sample), label values escaped, numbers in the shortest form that reads back exactly.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace fulcrum::admin {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
 public:
  /// Starts a family; `type` is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  /// A histogram sample line with an extra `le` label (bound "+Inf" for the last bucket).
  void bucket(std::string_view name, std::initializer_list<Label> labels, std::string_view le,
              uint64_t cumulative);

  const std::string& text() const { return out_; }

 private:
  void labels(std::initializer_list<Label> labels, std::string_view le = {});

  std::string out_;
};

/// Escapes backslash, double quote and newline as the format requires.
std::string escape_label_value(std::string_view value);

}  // namespace fulcrum::admin
