#include "agent/agent_server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "agent/reply.h"
#include "net/no_throw.h"

namespace fulcrum::agent {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;

/// Beyond this many connections at once, new ones are closed unanswered (a misbehaving prober
/// must not make the agent run commands without bound).
constexpr std::size_t kMaxConnections = 128;
/// After answering, how long to wait for the prober to close before closing ourselves.
constexpr auto kLinger = std::chrono::seconds(2);
/// How much of a probe string or other input is read and ignored after answering.
constexpr std::size_t kMaxIgnoredInput = 64 * 1024;
constexpr auto kCpuSampleInterval = std::chrono::seconds(1);
constexpr std::size_t kMaxFileBytes = 4096;

/// Reads and drops what the peer sends until it closes; the timer in the caller bounds it.
asio::awaitable<void> discard_until_closed(tcp::socket& socket) {
  char buffer[1024];
  std::size_t total = 0;
  while (total < kMaxIgnoredInput) {
    const auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), net::kNoThrow);
    if (ec) break;
    total += n;
  }
}

}  // namespace

AgentServer::AgentServer(AgentOptions options)
    : options_(std::move(options)), acceptor_(io_), commands_(io_.get_executor()) {}

AgentServer::~AgentServer() = default;

tcp::endpoint AgentServer::listen() {
  const tcp::endpoint endpoint(asio::ip::make_address(options_.listen_host), options_.listen_port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  return acceptor_.local_endpoint();
}

int AgentServer::run_until_signal(std::function<asio::awaitable<void>()> before_exit) {
  asio::signal_set signals(io_, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](std::error_code ec, int signal) {
    if (!ec) received = signal;
    if (ec || !before_exit) {
      io_.stop();
      return;
    }
    signals.async_wait([&](std::error_code, int) { io_.stop(); });
    asio::co_spawn(io_, before_exit(), [&](std::exception_ptr) { io_.stop(); });
  });
  if (options_.load_source == LoadSource::kCpu && options_.command.empty()) {
    // Until the first interval has passed, the busy share since boot.
    last_cpu_ = read_proc_stat().value_or(CpuTimes{});
    cpu_busy_percent_ = busy_percent(CpuTimes{}, last_cpu_).value_or(0);
    asio::co_spawn(io_, sample_cpu(), asio::detached);
  }
  asio::co_spawn(io_, accept_loop(), asio::detached);
  io_.run();
  spdlog::info("signal {}: stopped", received);
  return 0;
}

asio::awaitable<void> AgentServer::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("accept: {}", ec.message());
      continue;
    }
    if (connections_ >= kMaxConnections) continue;  // Closed unanswered as `socket` goes.
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AgentServer::serve(tcp::socket socket) {
  ++connections_;
  std::error_code ec;
  // Answer at once: HAProxy sends nothing, Equalizer's probe string is optional.
  std::string line = co_await answer();
  if (!line.empty()) {
    line += '\n';
    co_await asio::async_write(socket, asio::buffer(line), net::kNoThrow);  // Closed below anyway.
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
  // Closing with unread input (a probe string) would reset the connection, and a reset may
  // destroy the answer before the prober reads it: read until the prober closes, briefly.
  asio::steady_timer linger(io_, kLinger);
  co_await (discard_until_closed(socket) || linger.async_wait(net::kNoThrow));
  socket.close(ec);
  --connections_;
}

asio::awaitable<std::string> AgentServer::answer() {
  std::string problem;
  std::string text;
  if (!options_.command.empty()) {
    text = co_await command_answer(problem);
  } else if (!options_.file.empty()) {
    text = file_answer(problem);
  } else {
    text = load_answer(problem);
  }
  report(problem);
  co_return text;
}

asio::awaitable<std::string> AgentServer::command_answer(std::string& problem) {
  const auto output = co_await commands_.run(options_.command, options_.command_timeout);
  if (!output.first_line) {
    problem = "command: " + output.error + " (answering nothing)";
    co_return "";
  }
  const LineReply reply = reply_for_line(*output.first_line, options_.format);
  if (reply.kind == LineKind::kBlank) {
    problem = "command: printed no answer (answering nothing)";
  } else if (reply.kind == LineKind::kInvalid) {
    problem = "command: " + reply.problem + " (answering nothing)";
  } else if (!reply.problem.empty()) {
    problem = "command: " + reply.problem;
  }
  co_return reply.text;
}

std::string AgentServer::file_answer(std::string& problem) {
  // Missing or blank: no override, the measured load is answered.
  std::string content;
  const int fd = open(options_.file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT) problem = "file " + options_.file + ": " + std::strerror(errno);
  } else {
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      problem = "file " + options_.file + ": not a regular file";
    } else {
      content.resize(kMaxFileBytes);
      const ssize_t n = read(fd, content.data(), content.size());
      content.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    close(fd);
  }
  const LineReply reply = reply_for_line(content, options_.format);
  if (reply.kind == LineKind::kInvalid) {
    problem = "file " + options_.file + ": " + reply.problem + " (answering nothing)";
    return "";
  }
  if (!reply.problem.empty()) problem = "file " + options_.file + ": " + reply.problem;
  const bool overridden = reply.kind == LineKind::kAnswer;
  const std::string state = overridden ? "'" + reply.text + "'" : "the measured load";
  if (state != last_file_state_) {
    spdlog::info("file {}: answering {}", options_.file, state);
    last_file_state_ = state;
  }
  if (overridden) return reply.text;
  std::string load_problem;
  std::string text = load_answer(load_problem);
  if (problem.empty()) problem = load_problem;
  return text;
}

std::string AgentServer::load_answer(std::string& problem) {
  if (options_.load_source == LoadSource::kCpu) {
    return reply_for_load(cpu_busy_percent_, options_.format);
  }
  const auto load = read_load_average_percent();
  if (!load) {
    problem = "cannot read the load average (answering nothing)";
    return "";
  }
  return reply_for_load(*load, options_.format);
}

asio::awaitable<void> AgentServer::sample_cpu() {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(kCpuSampleInterval);
    const auto [ec] = co_await timer.async_wait(net::kNoThrow);
    if (ec) co_return;
    if (const auto now = read_proc_stat()) {
      if (const auto busy = busy_percent(last_cpu_, *now)) cpu_busy_percent_ = *busy;
      last_cpu_ = *now;
    }
  }
}

void AgentServer::report(const std::string& problem) {
  if (problem == last_problem_) return;
  if (!problem.empty()) spdlog::warn("{}", problem);
  last_problem_ = problem;
}

}  // namespace fulcrum::agent
