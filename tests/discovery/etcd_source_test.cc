// The etcd discovery source against a real etcd: the membership follows keys being added,
// reweighted, drained and removed; etcd going away keeps the last membership (never an empty
// report); a change made while the source was cut off arrives when etcd is back, through the
// resumed watch, or through a new range when the revisions it needed were compacted.
#include "discovery/etcd_source.h"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "discovery/etcd_process.h"

namespace fulcrum::discovery {
namespace {

using std::chrono::milliseconds;
using testing::EtcdProcess;
using testing::wait_for;

/// "address/weight[/backup][/drain]" per server, sorted: easy to compare and to read in failures.
std::string describe(const Membership& members) {
  std::string text;
  for (const auto& m : members) {
    if (!text.empty()) text += ' ';
    text += m.spec.address + "/" + std::to_string(m.spec.weight);
    if (m.spec.backup) text += "/backup";
    if (m.draining) text += "/drain";
  }
  return text;
}

/// Changes under the prefix show up within this.
constexpr milliseconds kPropagation{1000};

class EtcdSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.start());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (source_) {
      // stop() runs on the source's thread, as the discovery service does it.
      std::promise<void> stopped;
      asio::post(io_, [&] {
        source_->stop();
        stopped.set_value();
      });
      stopped.get_future().wait();
    }
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void start(std::vector<EtcdEndpoint> endpoints = {}) {
    if (endpoints.empty()) endpoints.push_back({"127.0.0.1", etcd_.port()});
    source_ = std::make_unique<EtcdSource>(EtcdSourceOptions{
        .endpoints = std::move(endpoints),
        .prefix = "/fulcrum/api",  // The trailing '/' is added.
        .request_timeout = milliseconds(500),
        .min_backoff = milliseconds(50),
        .max_backoff = milliseconds(200),
    });
    asio::post(io_, [this] {
      source_->start(io_, [this](Membership members) {
        std::lock_guard lock(mutex_);
        reports_.push_back(describe(members));
      });
    });
  }

  std::vector<std::string> reports() {
    std::lock_guard lock(mutex_);
    return reports_;
  }
  std::string last() {
    std::lock_guard lock(mutex_);
    return reports_.empty() ? "(no report)" : reports_.back();
  }
  /// Waits until the last report is `expected`.
  ::testing::AssertionResult becomes(const std::string& expected,
                                     milliseconds timeout = kPropagation) {
    if (wait_for([&] { return last() == expected; }, timeout)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "expected '" << expected << "', last report '" << last()
                                         << "' after " << timeout.count() << " ms";
  }

  EtcdProcess etcd_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<EtcdSource> source_;
  std::mutex mutex_;
  std::vector<std::string> reports_;
};

TEST_F(EtcdSourceTest, MembershipFollowsTheKeys) {
  etcd_.put("/fulcrum/api/10.0.0.1:80", R"({"weight": 2})");
  etcd_.put("/fulcrum/api/10.0.0.2:80", "");
  etcd_.put("/fulcrum/other/10.0.0.9:80", "");  // Another cluster's.
  start();
  ASSERT_TRUE(becomes("10.0.0.1:80/2 10.0.0.2:80/1"));
  EXPECT_EQ(describe(Membership{}), "");

  etcd_.put("/fulcrum/api/10.0.0.3:80", R"({"weight": 5, "backup": true})");
  ASSERT_TRUE(becomes("10.0.0.1:80/2 10.0.0.2:80/1 10.0.0.3:80/5/backup"));
  etcd_.put("/fulcrum/api/10.0.0.1:80", R"({"weight": 7})");  // Reweight.
  ASSERT_TRUE(becomes("10.0.0.1:80/7 10.0.0.2:80/1 10.0.0.3:80/5/backup"));
  etcd_.put("/fulcrum/api/10.0.0.2:80", R"({"drain": true})");
  ASSERT_TRUE(becomes("10.0.0.1:80/7 10.0.0.2:80/1/drain 10.0.0.3:80/5/backup"));
  etcd_.remove("/fulcrum/api/10.0.0.3:80");
  ASSERT_TRUE(becomes("10.0.0.1:80/7 10.0.0.2:80/1/drain"));

  // A malformed value or key is skipped; the others stay.
  etcd_.put("/fulcrum/api/10.0.0.1:80", R"({"weight": "heavy"})");
  ASSERT_TRUE(becomes("10.0.0.2:80/1/drain"));
  etcd_.put("/fulcrum/api/not-an-address", "");
  etcd_.put("/fulcrum/api/10.0.0.4:80", "{}");
  ASSERT_TRUE(becomes("10.0.0.2:80/1/drain 10.0.0.4:80/1"));
  etcd_.put("/fulcrum/api/10.0.0.1:80", R"({"weight": 3})");  // Fixed.
  ASSERT_TRUE(becomes("10.0.0.1:80/3 10.0.0.2:80/1/drain 10.0.0.4:80/1"));

  // Every report differs from the one before it: nothing is reported twice.
  const auto all = reports();
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_NE(all[i], all[i - 1]);
  EXPECT_EQ(source_->describe(), "etcd /fulcrum/api/");
}

TEST_F(EtcdSourceTest, AnEmptyPrefixIsReportedOnceKnown) {
  start();
  ASSERT_TRUE(wait_for([&] { return !reports().empty(); }, kPropagation));
  EXPECT_EQ(reports(), std::vector<std::string>{""});
  etcd_.put("/fulcrum/api/10.0.0.1:80", "");
  ASSERT_TRUE(becomes("10.0.0.1:80/1"));
}

TEST_F(EtcdSourceTest, KeepsTheMembershipWhileEtcdIsAwayAndCatchesUpAfter) {
  etcd_.put("/fulcrum/api/10.0.0.1:80", "");
  etcd_.put("/fulcrum/api/10.0.0.2:80", "");
  start();
  ASSERT_TRUE(becomes("10.0.0.1:80/1 10.0.0.2:80/1"));
  const std::size_t reported = reports().size();

  etcd_.stop();
  // The source retries every 50-200 ms meanwhile; over a second, nothing is reported.
  EXPECT_FALSE(wait_for([&] { return reports().size() > reported; }, milliseconds(1000)))
      << "reported '" << last() << "' while etcd was down";

  // A change made while the source cannot see it: etcd is up on another port only.
  ASSERT_TRUE(etcd_.start(testing::free_port()));
  etcd_.remove("/fulcrum/api/10.0.0.1:80");
  etcd_.put("/fulcrum/api/10.0.0.2:80", R"({"weight": 4})");
  etcd_.put("/fulcrum/api/10.0.0.3:80", "");
  etcd_.stop();
  EXPECT_EQ(reports().size(), reported);

  // Back on its port: the resumed watch delivers all three changes.
  ASSERT_TRUE(etcd_.start());
  ASSERT_TRUE(becomes("10.0.0.2:80/4 10.0.0.3:80/1", milliseconds(5000)));
  for (const auto& report : reports()) EXPECT_NE(report, "") << "an empty membership reported";
  etcd_.put("/fulcrum/api/10.0.0.4:80", "");
  ASSERT_TRUE(becomes("10.0.0.2:80/4 10.0.0.3:80/1 10.0.0.4:80/1"));
}

TEST_F(EtcdSourceTest, RangesAgainWhenTheRevisionsItNeedsWereCompacted) {
  etcd_.put("/fulcrum/api/10.0.0.1:80", "");
  start();
  ASSERT_TRUE(becomes("10.0.0.1:80/1"));
  etcd_.stop();
  ASSERT_TRUE(etcd_.start(testing::free_port()));
  etcd_.put("/fulcrum/api/10.0.0.2:80", "");
  etcd_.remove("/fulcrum/api/10.0.0.1:80");
  etcd_.put("/fulcrum/api/10.0.0.3:80", R"({"weight": 9})");
  etcd_.etcdctl({"compaction", std::to_string(etcd_.revision())});
  etcd_.stop();
  ASSERT_TRUE(etcd_.start());
  ASSERT_TRUE(becomes("10.0.0.2:80/1 10.0.0.3:80/9", milliseconds(5000)));
  etcd_.remove("/fulcrum/api/10.0.0.2:80");
  ASSERT_TRUE(becomes("10.0.0.3:80/9"));
}

TEST_F(EtcdSourceTest, UsesTheNextEndpointWhenOneIsDown) {
  etcd_.put("/fulcrum/api/10.0.0.1:80", "");
  start({{"127.0.0.1", testing::free_port()}, {"127.0.0.1", etcd_.port()}});
  ASSERT_TRUE(becomes("10.0.0.1:80/1"));
  etcd_.put("/fulcrum/api/10.0.0.2:80", "");
  ASSERT_TRUE(becomes("10.0.0.1:80/1 10.0.0.2:80/1"));
}

TEST(EtcdServerTest, KeysAndValues) {
  std::string error;
  auto server =
      parse_etcd_server("/fulcrum/api/10.0.0.1:8080",
                        R"({"weight": 3, "backup": true, "drain": true, "zone": "a"})", error);
  ASSERT_TRUE(server) << error;
  EXPECT_EQ(server->spec.address, "10.0.0.1:8080");
  EXPECT_EQ(server->spec.weight, 3u);
  EXPECT_TRUE(server->spec.backup);
  EXPECT_TRUE(server->draining);
  server = parse_etcd_server("/p/[::1]:80", "", error);
  ASSERT_TRUE(server) << error;
  EXPECT_EQ(server->spec.address, "[::1]:80");
  EXPECT_EQ(server->spec.weight, 1u);
  EXPECT_TRUE(parse_etcd_server("/p/app.internal:80", "{\"weight\": 0}", error));

  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"/p/10.0.0.1", ""},
           {"/p/10.0.0.1:0", ""},
           {"/p/10.0.0.1:65536", ""},
           {"/p/::1:80", ""},
           {"/p/", ""},
           {"/p/10.0.0.1:80", "weight=2"},
           {"/p/10.0.0.1:80", "[1]"},
           {"/p/10.0.0.1:80", R"({"weight": -1})"},
           {"/p/10.0.0.1:80", R"({"weight": 10001})"},
           {"/p/10.0.0.1:80", R"({"weight": 1.5})"},
           {"/p/10.0.0.1:80", R"({"backup": "yes"})"},
           {"/p/10.0.0.1:80", R"({"drain": 1})"},
       }) {
    error.clear();
    EXPECT_FALSE(parse_etcd_server(key, value, error)) << key << " " << value;
    EXPECT_NE(error.find(key), std::string::npos) << error;
  }
}

TEST(EtcdServerTest, CreateChecksItsArguments) {
  std::string error;
  EXPECT_TRUE(EtcdSource::create({"127.0.0.1:2379", "etcd:2379"}, "/fulcrum/api/", {}, error));
  EXPECT_FALSE(EtcdSource::create({}, "/fulcrum/api/", {}, error));
  EXPECT_FALSE(EtcdSource::create({"127.0.0.1"}, "/fulcrum/api/", {}, error));
  EXPECT_FALSE(EtcdSource::create({"127.0.0.1:2379"}, "/", {}, error));
}

}  // namespace
}  // namespace fulcrum::discovery
