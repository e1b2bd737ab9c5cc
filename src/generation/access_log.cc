#include "generation/access_log.h"

#include <fmt/format.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace fulcrum::generation {

namespace {

/// How often the log thread empties the rings: a ring holds kSlots lines, enough for over
/// 200,000 requests/s per worker at this period.
constexpr auto kDrainPeriod = std::chrono::milliseconds(10);

double millis(int64_t nanos) { return static_cast<double>(nanos) / 1e6; }

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

void AccessLogWriter::write(const AccessRecord& r) {
  const uint64_t at = written_.load(std::memory_order_relaxed);
  if (at - read_.load(std::memory_order_acquire) >= kSlots) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Slot& slot = slots_[at & (kSlots - 1)];
  slot.status = r.status;
  slot.retries = r.retries;
  slot.bytes = r.bytes;
  slot.upstream_ns = r.upstream_time.count();
  slot.total_ns = r.total_time.count();
  // The strings, one after the other, each cut to what room is left.
  const std::string_view parts[5] = {r.listener, r.client, r.method, r.path, r.upstream};
  std::size_t used = 0;
  for (int i = 0; i < 5; ++i) {
    const std::size_t n = std::min(parts[i].size(), kTextBytes - used);
    if (n > 0) std::memcpy(slot.text + used, parts[i].data(), n);  // data() may be null.
    slot.lengths[i] = static_cast<uint16_t>(n);
    used += n;
  }
  written_.store(at + 1, std::memory_order_release);
}

template <typename Line>
void AccessLogWriter::drain(Line&& line) {
  const uint64_t end = written_.load(std::memory_order_acquire);
  uint64_t at = read_.load(std::memory_order_relaxed);
  for (; at != end; ++at) line(slots_[at & (kSlots - 1)]);
  read_.store(at, std::memory_order_release);
}

AccessLog::AccessLog(const config::AccessLogConfig& config) : format_(config.format) {
  if (!config.enabled) return;
  // Only the log thread writes through these sinks; the console ones share spdlog's console
  // lock, so lines never interleave with the daemon's own log on the same stream.
  spdlog::sink_ptr sink;
  if (config.path == "stdout") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else if (config.path == "stderr") {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.path);
  }
  logger_ = std::make_shared<spdlog::logger>(unique_logger_name(), sink);
  logger_->set_pattern("%v");
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_changed_.notify_all();
    thread_.join();
  }
  flush();
}

AccessLogWriter* AccessLog::writer() {
  if (!logger_) return nullptr;
  std::lock_guard lock(mutex_);
  writers_.push_back(std::make_unique<AccessLogWriter>());
  return writers_.back().get();
}

void AccessLog::flush() {
  if (!logger_) return;
  std::lock_guard lock(mutex_);
  drain_all();
}

void AccessLog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    stop_changed_.wait_for(lock, kDrainPeriod, [this] { return stopping_; });
    drain_all();
  }
}

void AccessLog::drain_all() {
  uint64_t dropped = 0;
  for (auto& writer : writers_) {
    writer->drain([this](const AccessLogWriter::Slot& slot) { write_line(slot); });
    dropped += writer->dropped_.load(std::memory_order_relaxed);
  }
  logger_->flush();
  if (dropped > dropped_reported_) {
    spdlog::warn("access log: {} lines dropped so far (the log thread fell behind)", dropped);
    dropped_reported_ = dropped;
  }
}

void AccessLog::write_line(const AccessLogWriter::Slot& slot) {
  std::string_view parts[5];
  std::size_t offset = 0;
  for (int i = 0; i < 5; ++i) {
    parts[i] = std::string_view(slot.text + offset, slot.lengths[i]);
    offset += slot.lengths[i];
  }
  const auto [listener, client, method, path, upstream] = parts;
  fmt::memory_buffer line;
  auto out = std::back_inserter(line);
  if (format_ == config::AccessLogFormat::kJson) {
    fmt::format_to(out, "{{\"listener\":");
    append_json_string(line, listener);
    fmt::format_to(out, ",\"client\":");
    append_json_string(line, client);
    fmt::format_to(out, ",\"method\":");
    append_json_string(line, method);
    fmt::format_to(out, ",\"path\":");
    append_json_string(line, path);
    fmt::format_to(out, ",\"status\":{},\"bytes\":{},\"upstream\":", slot.status, slot.bytes);
    append_json_string(line, upstream);
    fmt::format_to(out, ",\"upstream_ms\":{:.3f},\"total_ms\":{:.3f},\"retries\":{}}}",
                   millis(slot.upstream_ns), millis(slot.total_ns), slot.retries);
  } else {
    fmt::format_to(out, "{} {} {} {} {} {} {} {:.3f}ms {:.3f}ms retries={}", listener, client,
                   method, path, slot.status, slot.bytes, upstream.empty() ? "-" : upstream,
                   millis(slot.upstream_ns), millis(slot.total_ns), slot.retries);
  }
  logger_->info(std::string_view(line.data(), line.size()));
}

}  // namespace fulcrum::generation
