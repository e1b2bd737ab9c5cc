#include "agent/command_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "net/no_throw.h"

extern char** environ;

namespace fulcrum::agent {
namespace {

using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxLineBytes = 4096;

/// Spawns /bin/sh -c `command` in a new process group with its stdout on `stdout_fd`.
/// Returns the pid, or -1 with errno set.
pid_t spawn_shell(const std::string& command, int stdout_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Our listening socket and connections must not live on in a command's background children.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  sigset_t empty;
  sigset_t defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  char shell[] = "/bin/sh";
  char flag[] = "-c";
  char* argv[] = {shell, flag, const_cast<char*>(command.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, shell, &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return pid;
}

/// Reads until a line end, end of output or kMaxLineBytes; returns what came before the line end.
asio::awaitable<std::string> read_first_line(asio::posix::stream_descriptor& pipe) {
  std::string data;
  char chunk[512];
  while (data.size() < kMaxLineBytes) {
    const auto [ec, n] = co_await pipe.async_read_some(asio::buffer(chunk), net::kNoThrow);
    data.append(chunk, n);
    if (data.find('\n') != std::string::npos || ec) break;
  }
  co_return data.substr(0, data.find('\n'));
}

}  // namespace

CommandRunner::~CommandRunner() {
  for (const pid_t pid : running_) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

asio::awaitable<CommandRunner::Output> CommandRunner::run(const std::string& command,
                                                          std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) co_return Output{.error = std::strerror(errno)};
  const pid_t pid = spawn_shell(command, fds[1]);
  const int spawn_errno = errno;
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    co_return Output{.error = std::string("cannot start /bin/sh: ") + std::strerror(spawn_errno)};
  }
  running_.insert(pid);
  asio::co_spawn(executor_, reap(pid, deadline), asio::detached);

  asio::posix::stream_descriptor pipe(executor_, fds[0]);
  asio::steady_timer timer(executor_, deadline);
  auto first = co_await (read_first_line(pipe) || timer.async_wait(net::kNoThrow));
  if (first.index() == 1) {
    co_return Output{.error = "no line within " + std::to_string(timeout.count()) + " ms"};
  }
  co_return Output{.first_line = std::move(std::get<0>(first))};
}

asio::awaitable<void> CommandRunner::reap(pid_t pid, Clock::time_point deadline) {
  asio::steady_timer timer(executor_, deadline);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    // A pidfd is readable once the process has exited.
    asio::posix::stream_descriptor exited(executor_, pidfd);
    co_await (exited.async_wait(asio::posix::descriptor_base::wait_read, net::kNoThrow) ||
              timer.async_wait(net::kNoThrow));
  } else {
    // Kernels before 5.3 have no pidfd: look at the exit status now and then instead.
    while (Clock::now() < deadline && waitpid(pid, nullptr, WNOHANG) == 0) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(net::kNoThrow);
    }
  }
  // Past the deadline (or the wait failed): the command and everything it started must go.
  if (waitpid(pid, nullptr, WNOHANG) == 0) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  running_.erase(pid);
}

}  // namespace fulcrum::agent
