#include "discovery/file_source.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fulcrum::discovery {
namespace {

namespace fs = std::filesystem;

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/fulcrum-file-source-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ / "servers.yaml";
  }
  void TearDown() override {
    source_.reset();
    fs::remove_all(dir_);
  }

  void start() {
    source_ = std::make_unique<FileSource>(path_.string());
    source_->start(io_, [this](Membership members) { reports_.push_back(std::move(members)); });
  }

  // As editors and atomic writers do: write a temporary file, rename it over the old one.
  void replace(const std::string& text) {
    const fs::path temporary = dir_ / ".servers.yaml.tmp";
    std::ofstream(temporary) << text;
    fs::rename(temporary, path_);
  }

  // Runs the io_context until `count` reports arrived or 5 s passed.
  bool wait_reports(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (reports_.size() < count && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(10));
    }
    return reports_.size() >= count;
  }

  fs::path dir_;
  fs::path path_;
  asio::io_context io_;
  std::unique_ptr<FileSource> source_;
  std::vector<Membership> reports_;
};

TEST_F(FileSourceTest, ReportsTheListAndFollowsRenameReplace) {
  std::ofstream(path_) << "- address: 127.0.0.1:8001\n";
  start();
  ASSERT_TRUE(wait_reports(1));
  ASSERT_EQ(reports_[0].size(), 1u);

  replace("- address: 127.0.0.1:8001\n  weight: 4\n- address: 127.0.0.1:8002\n");
  ASSERT_TRUE(wait_reports(2));
  ASSERT_EQ(reports_[1].size(), 2u);
  EXPECT_EQ(reports_[1][0].spec.weight, 4u);

  // Written in place (truncate, write, close) works too.
  std::ofstream(path_) << "- address: 127.0.0.1:8002\n";
  ASSERT_TRUE(wait_reports(3));
  ASSERT_EQ(reports_[2].size(), 1u);
  EXPECT_EQ(reports_[2][0].spec.address, "127.0.0.1:8002");
}

TEST_F(FileSourceTest, ABrokenFileKeepsTheLastGoodListAndAFixedOneIsRead) {
  std::ofstream(path_) << "- address: 127.0.0.1:8001\n";
  start();
  ASSERT_TRUE(wait_reports(1));
  for (const char* broken : {"- address: 127.0.0.1:8001\n  weight: -3\n", "- {address: [\n",
                             ""}) {  // "": what a reader sees mid-rewrite
    replace(broken);
    source_->reload();
    io_.run_for(std::chrono::milliseconds(20));
    EXPECT_EQ(reports_.size(), 1u) << broken;
  }
  // The next good file is reported.
  replace("- address: 127.0.0.1:8003\n");
  ASSERT_TRUE(wait_reports(2));
  ASSERT_EQ(reports_.size(), 2u);
  ASSERT_EQ(reports_[1].size(), 1u);
  EXPECT_EQ(reports_[1][0].spec.address, "127.0.0.1:8003");
}

TEST_F(FileSourceTest, AFileCreatedLaterIsPickedUp) {
  start();
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(reports_.empty());
  replace("[]\n");
  ASSERT_TRUE(wait_reports(1));
  EXPECT_TRUE(reports_[0].empty());  // An explicit empty list is reported; the service judges it.
}

}  // namespace
}  // namespace fulcrum::discovery
