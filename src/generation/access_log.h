#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/clock.h"

namespace spdlog {
class logger;
}

namespace fulcrum::generation {

/// One line of the access log.
struct AccessRecord {
  std::string_view listener;
  std::string_view client;
  std::string_view method;
  std::string_view path;
  int status = 0;
  uint64_t bytes = 0;         ///< Response bytes sent to the client, head included.
  std::string_view upstream;  ///< Server address, empty when none answered.
  core::Nanos upstream_time{0};
  core::Nanos total_time{0};
  uint32_t retries = 0;
};

/// Where one thread (a worker) writes access log lines: a ring of fixed-size records that only
/// this thread fills and the log thread empties, so writing a line takes no lock, makes no
/// system call and allocates nothing. When the ring is full the line is dropped and counted.
class AccessLogWriter {
 public:
  static constexpr std::size_t kSlots = 2048;  ///< Power of two.
  static constexpr std::size_t kTextBytes = 440;

  /// Copies the record (strings truncated to fit kTextBytes in all) into the ring.
  void write(const AccessRecord& record);

 private:
  friend class AccessLog;
  struct Slot {
    int status;
    uint32_t retries;
    uint64_t bytes;
    int64_t upstream_ns;
    int64_t total_ns;
    uint16_t lengths[5];  // listener, client, method, path, upstream
    char text[kTextBytes];
  };
  /// Calls `line` for every record written so far and frees their slots. Log thread only.
  template <typename Line>
  void drain(Line&& line);

  std::unique_ptr<Slot[]> slots_ = std::make_unique<Slot[]>(kSlots);
  alignas(64) std::atomic<uint64_t> written_{0};  // Producer's cursor.
  alignas(64) std::atomic<uint64_t> read_{0};     // Consumer's cursor.
  std::atomic<uint64_t> dropped_{0};
};

/// The access log: per-thread rings emptied every few milliseconds by a thread of its own,
/// which formats the lines (text or JSON) and hands them to spdlog, so neither a slow disk nor
/// formatting ever stalls a worker.
class AccessLog {
 public:
  explicit AccessLog(const config::AccessLogConfig& config);
  ~AccessLog();

  bool enabled() const { return logger_ != nullptr; }
  /// A writer for one more thread; nullptr when the log is off. Call at start-up, not per line.
  AccessLogWriter* writer();
  /// Writes out every line written so far.
  void flush();

 private:
  void run();
  void drain_all();  // Caller holds mutex_.
  void write_line(const AccessLogWriter::Slot& slot);

  config::AccessLogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
  std::mutex mutex_;  // Writers list and draining; never taken by a writer.
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<AccessLogWriter>> writers_;
  uint64_t dropped_reported_ = 0;
  std::thread thread_;
};

}  // namespace fulcrum::generation
