#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "config/config.h"
#include "core/clock.h"

namespace spdlog {
class logger;
}

namespace fulcrum::proxy {

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

/// Access log through an asynchronous spdlog logger, so a slow disk never stalls a worker.
/// Thread-safe.
class AccessLog {
 public:
  explicit AccessLog(const config::AccessLogConfig& config);
  ~AccessLog();

  bool enabled() const { return logger_ != nullptr; }
  void write(const AccessRecord& record);
  void flush();

 private:
  config::AccessLogFormat format_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace fulcrum::proxy
