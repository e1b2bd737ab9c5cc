#pragma once

// Runs an operator's command through /bin/sh for fulcrum-agent and reads the first line it
// prints, without blocking the event loop. Each command runs in its own process group so that
// a command that overstays its timeout is killed with everything it started.

#include <sys/types.h>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace fulcrum::agent {

class CommandRunner {
 public:
  struct Output {
    std::optional<std::string> first_line;  ///< Without its line end; "" if nothing printed.
    std::string error;                      ///< Why there is no line.
  };

  explicit CommandRunner(asio::any_io_executor executor) : executor_(std::move(executor)) {}
  /// Kills and reaps the commands still running.
  ~CommandRunner();
  CommandRunner(const CommandRunner&) = delete;
  CommandRunner& operator=(const CommandRunner&) = delete;

  /// Starts `/bin/sh -c command` (stdin /dev/null, stderr inherited) and returns its first line
  /// of output. The command must finish within `timeout`; it is killed otherwise, after its
  /// line has been returned if it printed one in time.
  asio::awaitable<Output> run(const std::string& command, std::chrono::milliseconds timeout);

  std::size_t running() const { return running_.size(); }

 private:
  asio::awaitable<void> reap(pid_t pid, std::chrono::steady_clock::time_point deadline);

  asio::any_io_executor executor_;
  std::set<pid_t> running_;
};

}  // namespace fulcrum::agent
