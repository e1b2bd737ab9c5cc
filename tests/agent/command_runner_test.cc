// The command runner with real /bin/sh processes on a real io_context.
#include "agent/command_runner.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>

namespace fulcrum::agent {
namespace {

using namespace std::chrono_literals;

struct Finished {
  CommandRunner::Output output;
  std::chrono::steady_clock::duration took;
};

/// Running: neither gone nor a zombie waiting for whoever inherited it to reap it.
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const std::size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

/// Runs `command` and the io_context until the command has been reaped (bounded by ctest's
/// timeout: every reap ends at the command's deadline at the latest).
Finished run_command(const std::string& command, std::chrono::milliseconds timeout) {
  asio::io_context io;
  CommandRunner runner(io.get_executor());
  const auto start = std::chrono::steady_clock::now();
  auto future = asio::co_spawn(io, runner.run(command, timeout), asio::use_future);
  io.run();
  EXPECT_EQ(runner.running(), 0U);
  return {future.get(), std::chrono::steady_clock::now() - start};
}

TEST(CommandRunnerTest, FirstLineOfStdout) {
  const Finished r = run_command("echo 'drain # upgrade'; echo second", 5000ms);
  ASSERT_TRUE(r.output.first_line) << r.output.error;
  EXPECT_EQ(*r.output.first_line, "drain # upgrade");
}

TEST(CommandRunnerTest, OutputWithoutLineEnd) {
  const Finished r = run_command("printf 42", 5000ms);
  ASSERT_TRUE(r.output.first_line) << r.output.error;
  EXPECT_EQ(*r.output.first_line, "42");
}

TEST(CommandRunnerTest, NoOutputIsAnEmptyLine) {
  const Finished r = run_command("exit 3", 5000ms);
  ASSERT_TRUE(r.output.first_line) << r.output.error;
  EXPECT_EQ(*r.output.first_line, "");
}

TEST(CommandRunnerTest, SilentCommandTimesOutAndIsKilled) {
  const Finished r = run_command("sleep 30", 200ms);
  EXPECT_FALSE(r.output.first_line);
  EXPECT_EQ(r.output.error, "no line within 200 ms");
  EXPECT_LT(r.took, 10s) << "killed at the deadline, not waited for";
}

TEST(CommandRunnerTest, CommandThatLingersAfterItsLineIsKilledWithItsChildren) {
  const std::string marker = ::testing::TempDir() + "/fulcrum-agent-child-pid";
  const Finished r = run_command("sleep 30 & echo $! > " + marker + "; echo 7; wait", 300ms);
  ASSERT_TRUE(r.output.first_line) << r.output.error;
  EXPECT_EQ(*r.output.first_line, "7");
  EXPECT_LT(r.took, 10s);
  // The background child was in the command's process group: it is gone too.
  std::ifstream in(marker);
  pid_t child = 0;
  ASSERT_TRUE(in >> child);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (alive(child) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(alive(child)) << "background child " << child << " still running";
}

}  // namespace
}  // namespace fulcrum::agent
