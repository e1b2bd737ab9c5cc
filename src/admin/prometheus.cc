#include "admin/prometheus.h"

#include <fmt/format.h>

#include <cmath>

namespace fulcrum::admin {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void PrometheusText::labels(std::initializer_list<Label> labels, std::string_view le) {
  if (labels.size() == 0 && le.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += fmt::format("{}=\"{}\"", name, escape_label_value(value));
  }
  if (!le.empty()) out_ += fmt::format("{}le=\"{}\"", first ? "" : ",", le);
  out_ += '}';
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels_list,
                            double value) {
  out_ += name;
  labels(labels_list);
  if (std::isnan(value)) {
    out_ += " NaN\n";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? " +Inf\n" : " -Inf\n";
  } else {
    out_ += fmt::format(" {}\n", value);
  }
}

void PrometheusText::sample(std::string_view name, std::initializer_list<Label> labels_list,
                            uint64_t value) {
  out_ += name;
  labels(labels_list);
  out_ += fmt::format(" {}\n", value);
}

void PrometheusText::bucket(std::string_view name, std::initializer_list<Label> labels_list,
                            std::string_view le, uint64_t cumulative) {
  out_ += name;
  labels(labels_list, le);
  out_ += fmt::format(" {}\n", cumulative);
}

}  // namespace fulcrum::admin
