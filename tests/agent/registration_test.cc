// fulcrum-agent's etcd registration against a real etcd: the key is put under a lease, comes
// back when the lease is lost, and leaves (drained first, or at once) on leave().
#include "agent/registration.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <future>
#include <thread>

#include "discovery/etcd_process.h"

namespace fulcrum::agent {
namespace {

using discovery::testing::EtcdProcess;
using discovery::testing::wait_for;
using std::chrono::milliseconds;

constexpr const char* kKey = "/fulcrum/api/10.0.0.5:8080";

class RegistrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(etcd_.start());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  void start(RegistrationOptions options) {
    options.endpoints = {{"127.0.0.1", etcd_.port()}};
    options.key_prefix = "/fulcrum/api/";
    options.advertise = "10.0.0.5:8080";
    registrar_ = std::make_unique<Registrar>(io_, std::move(options));
    asio::post(io_, [this] { registrar_->start(); });
  }
  /// Runs leave() on the io thread; returns once it finished.
  void leave() {
    std::promise<void> done;
    asio::co_spawn(io_, registrar_->leave(), [&](std::exception_ptr) { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(15)), std::future_status::ready);
  }
  std::string value() const {
    bool ok = false;
    return etcd_.etcdctl({"get", kKey, "--print-value-only"}, &ok);
  }
  std::string lease() const {
    const std::string out = etcd_.etcdctl({"get", kKey, "--write-out=fields"});
    const std::size_t at = out.find("\"Lease\" : ");
    return at == std::string::npos ? "" : out.substr(at + 10, out.find('\n', at) - at - 10);
  }

  EtcdProcess etcd_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<Registrar> registrar_;
};

TEST_F(RegistrationTest, PutsTheKeyUnderALeaseAndRevokesItOnLeave) {
  start({.ttl = std::chrono::seconds(10), .weight = 3});
  ASSERT_TRUE(wait_for([&] { return value() == "{\"weight\":3}\n"; }, milliseconds(5000)))
      << value();
  EXPECT_NE(lease(), "0");
  const auto started = std::chrono::steady_clock::now();
  leave();
  EXPECT_EQ(value(), "") << "the key left with the lease";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST_F(RegistrationTest, RegistersAgainWhenTheLeaseIsLost) {
  start({.ttl = std::chrono::seconds(2)});
  ASSERT_TRUE(wait_for([&] { return !value().empty(); }, milliseconds(5000)));
  const std::string first = lease();
  ASSERT_FALSE(first.empty());
  // As if etcd had lost it: the key goes with it, and the next keepalive finds it gone.
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", std::stoull(first));
  etcd_.etcdctl({"lease", "revoke", hex});
  EXPECT_EQ(value(), "");
  ASSERT_TRUE(wait_for([&] { return value() == "{\"weight\":1}\n"; }, milliseconds(3000)));
  EXPECT_NE(lease(), first);
}

TEST_F(RegistrationTest, RegistersAgainWhenEtcdRestartsWithoutItsData) {
  start({.ttl = std::chrono::seconds(2)});
  ASSERT_TRUE(wait_for([&] { return !value().empty(); }, milliseconds(5000)));
  etcd_.stop();
  etcd_.wipe();
  ASSERT_TRUE(etcd_.start());
  ASSERT_TRUE(wait_for([&] { return value() == "{\"weight\":1}\n"; }, milliseconds(5000)))
      << "the key did not come back";
}

TEST_F(RegistrationTest, KeepsTheLeaseAliveBeyondItsTtl) {
  start({.ttl = std::chrono::seconds(2)});
  ASSERT_TRUE(wait_for([&] { return !value().empty(); }, milliseconds(5000)));
  const std::string first = lease();
  // Three TTLs: the key would have gone twice over without keepalives.
  EXPECT_FALSE(wait_for([&] { return value().empty(); }, milliseconds(6000)));
  EXPECT_EQ(lease(), first);
}

TEST_F(RegistrationTest, DrainsBeforeLeaving) {
  start({.ttl = std::chrono::seconds(2),
         .weight = 2,
         .drain_on_exit = true,
         .drain_wait = milliseconds(3000)});
  ASSERT_TRUE(wait_for([&] { return !value().empty(); }, milliseconds(5000)));
  std::promise<void> done;
  auto left = done.get_future();
  const auto started = std::chrono::steady_clock::now();
  asio::co_spawn(io_, registrar_->leave(), [&](std::exception_ptr) { done.set_value(); });
  ASSERT_TRUE(
      wait_for([&] { return value() == "{\"weight\":2,\"drain\":true}\n"; }, milliseconds(2000)));
  // The drain wait outlasts the TTL: the lease is kept alive through it.
  EXPECT_FALSE(wait_for([&] { return value().empty(); }, milliseconds(2400)))
      << "the key went before the drain wait ended";
  ASSERT_EQ(left.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(2900));
  EXPECT_EQ(value(), "");
}

}  // namespace
}  // namespace fulcrum::agent
