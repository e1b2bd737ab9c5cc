#pragma once

// fulcrum-agent's server: accepts a connection, answers one line at once (without waiting for
// a probe string), and closes. Single-threaded on one io_context; answers are cheap.

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <string>

#include "agent/command_runner.h"
#include "agent/host_load.h"
#include "agent/options.h"

namespace fulcrum::agent {

class AgentServer {
 public:
  explicit AgentServer(AgentOptions options);
  ~AgentServer();
  AgentServer(const AgentServer&) = delete;
  AgentServer& operator=(const AgentServer&) = delete;

  /// Binds and listens; throws std::system_error (address in use, ...). Returns the address
  /// bound, with the port the system chose when asked for port 0.
  asio::ip::tcp::endpoint listen();

  /// Serves until SIGINT or SIGTERM; returns the process exit status. With `before_exit`, the
  /// first signal runs it (still serving meanwhile) and a second one stops at once.
  int run_until_signal(std::function<asio::awaitable<void>()> before_exit = {});

  asio::io_context& io_context() { return io_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  /// The line to send, without its line end; empty: say nothing.
  asio::awaitable<std::string> answer();
  // Each source's answer; `problem` is set to what is wrong, if anything.
  asio::awaitable<std::string> command_answer(std::string& problem);
  std::string file_answer(std::string& problem);
  std::string load_answer(std::string& problem);
  asio::awaitable<void> sample_cpu();
  /// Logs `problem` when it differs from the last one; "" marks a good answer.
  void report(const std::string& problem);

  AgentOptions options_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  CommandRunner commands_;
  std::size_t connections_ = 0;
  CpuTimes last_cpu_;
  int cpu_busy_percent_ = 0;
  std::string last_problem_;
  std::string last_file_state_;  ///< What the file made us answer, for logging changes.
};

}  // namespace fulcrum::agent
