#include "proxy/access_log.h"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace fulcrum::proxy {

namespace {

double millis(core::Nanos n) { return static_cast<double>(n.count()) / 1e6; }

void append_json_string(fmt::memory_buffer& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string unique_logger_name() {
  static std::atomic<int> counter{0};
  return "access-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

AccessLog::AccessLog(const config::AccessLogConfig& config) : format_(config.format) {
  if (!config.enabled) return;
  spdlog::sink_ptr sink;
  if (config.path == "stdout") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else if (config.path == "stderr") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.path);
  }
  if (!spdlog::thread_pool()) spdlog::init_thread_pool(8192, 1);
  logger_ =
      std::make_shared<spdlog::async_logger>(unique_logger_name(), sink, spdlog::thread_pool(),
                                             spdlog::async_overflow_policy::overrun_oldest);
  logger_->set_pattern("%v");
}

AccessLog::~AccessLog() { flush(); }

void AccessLog::flush() {
  if (logger_) logger_->flush();
}

void AccessLog::write(const AccessRecord& r) {
  if (!logger_) return;
  fmt::memory_buffer line;
  auto out = std::back_inserter(line);
  if (format_ == config::AccessLogFormat::kJson) {
    fmt::format_to(out, "{{\"listener\":");
    append_json_string(line, r.listener);
    fmt::format_to(out, ",\"client\":");
    append_json_string(line, r.client);
    fmt::format_to(out, ",\"method\":");
    append_json_string(line, r.method);
    fmt::format_to(out, ",\"path\":");
    append_json_string(line, r.path);
    fmt::format_to(out, ",\"status\":{},\"bytes\":{},\"upstream\":", r.status, r.bytes);
    append_json_string(line, r.upstream);
    fmt::format_to(out, ",\"upstream_ms\":{:.3f},\"total_ms\":{:.3f},\"retries\":{}}}",
                   millis(r.upstream_time), millis(r.total_time), r.retries);
  } else {
    fmt::format_to(out, "{} {} {} {} {} {} {} {:.3f}ms {:.3f}ms retries={}", r.listener, r.client,
                   r.method, r.path, r.status, r.bytes, r.upstream.empty() ? "-" : r.upstream,
                   millis(r.upstream_time), millis(r.total_time), r.retries);
  }
  logger_->info(std::string_view(line.data(), line.size()));
}

}  // namespace fulcrum::proxy
