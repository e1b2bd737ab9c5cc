// The etcd gateway client against a real etcd: key operations, leases, watches (events as they
// stream, compaction, disconnect), endpoint failover and timeouts. Message parsing without etcd
// is at the end.
#include "discovery/etcd_client.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdio>
#include <fstream>
#include <optional>

#include "discovery/etcd_process.h"

namespace fulcrum::discovery {
namespace {

using std::chrono::milliseconds;
using testing::EtcdProcess;

/// Runs `work` on `io` until it finishes or 15 s pass.
template <typename T>
std::optional<T> run(asio::io_context& io, asio::awaitable<T> work) {
  std::optional<T> result;
  asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) std::rethrow_exception(e);
    result = std::move(value);
  });
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!result && std::chrono::steady_clock::now() < deadline) io.run_for(milliseconds(10));
  return result;
}

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(etcd_.start()); }

  EtcdClient client(std::vector<EtcdEndpoint> endpoints = {},
                    milliseconds timeout = EtcdClient::kDefaultTimeout) {
    if (endpoints.empty()) endpoints.push_back({"127.0.0.1", etcd_.port()});
    return EtcdClient(io_.get_executor(), std::move(endpoints), timeout);
  }

  EtcdProcess etcd_;
  asio::io_context io_;
};

TEST_F(EtcdClientTest, PutRangeAndRemove) {
  EtcdClient etcd = client();
  const auto put = run(io_, etcd.put("/t/a/10.0.0.1:80", R"({"weight":2})"));
  ASSERT_TRUE(put && put->ok()) << put->error.message;
  ASSERT_TRUE(run(io_, etcd.put("/t/a/10.0.0.2:80", ""))->ok());
  ASSERT_TRUE(run(io_, etcd.put("/t/b/10.0.0.3:80", "x"))->ok());  // Another prefix.
  // What etcdctl sees is what the client wrote.
  EXPECT_EQ(etcd_.etcdctl({"get", "/t/a/10.0.0.1:80", "--print-value-only"}), "{\"weight\":2}\n");

  auto range = run(io_, etcd.range("/t/a/"));
  ASSERT_TRUE(range && range->ok()) << range->error.message;
  ASSERT_EQ(range->value.kvs.size(), 2u);
  EXPECT_EQ(range->value.kvs[0].key, "/t/a/10.0.0.1:80");
  EXPECT_EQ(range->value.kvs[0].value, R"({"weight":2})");
  EXPECT_EQ(range->value.kvs[0].mod_revision, put->value);
  EXPECT_EQ(range->value.kvs[1].key, "/t/a/10.0.0.2:80");
  EXPECT_EQ(range->value.kvs[1].value, "");
  EXPECT_EQ(range->value.revision, etcd_.revision());

  const auto removed = run(io_, etcd.remove("/t/a/10.0.0.1:80"));
  ASSERT_TRUE(removed && removed->ok()) << removed->error.message;
  range = run(io_, etcd.range("/t/a/"));
  ASSERT_TRUE(range && range->ok());
  ASSERT_EQ(range->value.kvs.size(), 1u);
  EXPECT_EQ(range->value.revision, removed->value);
  EXPECT_TRUE(run(io_, etcd.range("/none/"))->value.kvs.empty());
}

TEST_F(EtcdClientTest, WriteBatchPutsAndDeletesAtOneRevision) {
  EtcdClient etcd = client();
  ASSERT_TRUE(run(io_, etcd.put("/t/old", "x"))->ok());
  const auto lease = run(io_, etcd.lease_grant(30));
  ASSERT_TRUE(lease && lease->ok());
  const auto written = run(
      io_,
      etcd.write_batch({{"/t/a", "1"}, {"/t/b", R"({"s":"up"})"}, {"/t/old", "", /*remove=*/true}},
                       lease->value.id));
  ASSERT_TRUE(written && written->ok()) << written->error.message;
  EXPECT_EQ(written->value, etcd_.revision()) << "one transaction, one revision";
  const auto range = run(io_, etcd.range("/t/"));
  ASSERT_TRUE(range && range->ok());
  ASSERT_EQ(range->value.kvs.size(), 2u);
  EXPECT_EQ(range->value.kvs[0].key, "/t/a");
  EXPECT_EQ(range->value.kvs[1].value, R"({"s":"up"})");
  EXPECT_EQ(range->value.kvs[0].lease, lease->value.id);
  // Revoking the lease takes the batch's puts with it.
  ASSERT_FALSE(run(io_, etcd.lease_revoke(lease->value.id)).value());
  EXPECT_TRUE(run(io_, etcd.range("/t/"))->value.kvs.empty());
  // Over etcd's limit: its error, named.
  std::vector<EtcdWrite> too_many;
  for (int i = 0; i < 200; ++i) too_many.push_back({"/t/k" + std::to_string(i), "v"});
  const auto refused = run(io_, etcd.write_batch(std::move(too_many)));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->error.kind, EtcdError::Kind::kServer) << refused->error.message;
}

TEST_F(EtcdClientTest, LeaseGrantKeepaliveRevoke) {
  EtcdClient etcd = client();
  const auto lease = run(io_, etcd.lease_grant(30));
  ASSERT_TRUE(lease && lease->ok()) << lease->error.message;
  EXPECT_NE(lease->value.id, 0);
  EXPECT_EQ(lease->value.ttl_seconds, 30);
  ASSERT_TRUE(run(io_, etcd.put("/t/leased", "v", lease->value.id))->ok());
  char hex_id[32];
  std::snprintf(hex_id, sizeof hex_id, "%llx", static_cast<unsigned long long>(lease->value.id));
  EXPECT_NE(etcd_.etcdctl({"lease", "timetolive", hex_id, "--keys"}).find("/t/leased"),
            std::string::npos)
      << "etcdctl does not see the key attached";

  const auto alive = run(io_, etcd.lease_keepalive(lease->value.id));
  ASSERT_TRUE(alive && alive->ok()) << alive->error.message;
  EXPECT_EQ(alive->value.id, lease->value.id);
  EXPECT_EQ(alive->value.ttl_seconds, 30);

  const auto revoked = run(io_, etcd.lease_revoke(lease->value.id));
  ASSERT_TRUE(revoked);
  EXPECT_FALSE(*revoked) << revoked->message;
  EXPECT_TRUE(run(io_, etcd.range("/t/leased"))->value.kvs.empty()) << "the key left with it";
  const auto gone = run(io_, etcd.lease_keepalive(lease->value.id));
  ASSERT_TRUE(gone && gone->ok()) << gone->error.message;
  EXPECT_EQ(gone->value.ttl_seconds, 0) << "a lease that is gone has no TTL";
  const auto again = run(io_, etcd.lease_revoke(lease->value.id));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, EtcdError::Kind::kServer);
  EXPECT_EQ(again->grpc_code, kGrpcNotFound);
  EXPECT_NE(again->message.find("lease not found"), std::string::npos) << again->message;
}

TEST_F(EtcdClientTest, WatchStreamsEventsAsTheyHappen) {
  EtcdClient etcd = client();
  ASSERT_TRUE(run(io_, etcd.put("/w/old", "0"))->ok());
  const int64_t start = etcd_.revision() + 1;
  std::vector<EtcdEvent> events;
  bool created = false;
  std::optional<EtcdError> ended;
  asio::co_spawn(io_,
                 etcd.watch("/w/", start,
                            [&](const WatchMessage& m) {
                              created = created || m.created;
                              events.insert(events.end(), m.events.begin(), m.events.end());
                            }),
                 [&](std::exception_ptr, EtcdError e) { ended = e; });
  io_.restart();
  const auto run_until = [&](auto condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(milliseconds(10));
    }
    return condition();
  };
  ASSERT_TRUE(run_until([&] { return created; }));
  etcd_.put("/w/a", "1");
  etcd_.put("/other", "x");
  etcd_.put("/w/a", "2");
  etcd_.remove("/w/a");
  ASSERT_TRUE(run_until([&] { return events.size() >= 3; }));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], (EtcdEvent{EtcdEvent::Type::kPut, "/w/a", "1", start}));
  EXPECT_EQ(events[1], (EtcdEvent{EtcdEvent::Type::kPut, "/w/a", "2", start + 2}));
  EXPECT_EQ(events[2], (EtcdEvent{EtcdEvent::Type::kDelete, "/w/a", "", start + 3}));
  EXPECT_FALSE(ended);

  // etcd going away ends the watch with an error.
  etcd_.stop();
  ASSERT_TRUE(run_until([&] { return ended.has_value(); }));
  EXPECT_EQ(ended->kind, EtcdError::Kind::kUnavailable) << ended->message;
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionSaysSo) {
  EtcdClient etcd = client();
  ASSERT_TRUE(run(io_, etcd.put("/c/a", "1"))->ok());
  const auto second = run(io_, etcd.put("/c/a", "2"));
  ASSERT_TRUE(second && second->ok());
  etcd_.etcdctl({"compaction", std::to_string(second->value)});
  const auto ended = run(io_, etcd.watch("/c/", 1, [](const WatchMessage&) {}));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->kind, EtcdError::Kind::kCompacted) << ended->message;
  EXPECT_EQ(ended->compact_revision, second->value);
}

TEST_F(EtcdClientTest, CancelEndsAWatch) {
  EtcdClient etcd = client();
  std::optional<EtcdError> ended;
  bool created = false;
  asio::co_spawn(io_, etcd.watch("/x/", 0, [&](const WatchMessage& m) { created = m.created; }),
                 [&](std::exception_ptr, EtcdError e) { ended = e; });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!created && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(10));
  ASSERT_TRUE(created);
  etcd.cancel();
  while (!ended && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(10));
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->kind, EtcdError::Kind::kUnavailable);
}

TEST_F(EtcdClientTest, FailsOverFromADeadEndpoint) {
  // A port that refuses connections: bound, not listening.
  asio::ip::tcp::acceptor refusing(io_);
  refusing.open(asio::ip::tcp::v4());
  refusing.bind({asio::ip::make_address_v4("127.0.0.1"), 0});
  const uint16_t dead = refusing.local_endpoint().port();
  EtcdClient etcd = client({{"127.0.0.1", dead}, {"127.0.0.1", etcd_.port()}});
  const auto put = run(io_, etcd.put("/f/k", "v"));
  ASSERT_TRUE(put && put->ok()) << put->error.message;
  EXPECT_EQ(etcd.current_endpoint().port, etcd_.port()) << "the live endpoint stays current";
  EXPECT_TRUE(run(io_, etcd.range("/f/"))->ok());

  // Every endpoint dead: an error naming the failure, not a hang.
  EtcdClient nowhere = client({{"127.0.0.1", dead}});
  const auto failed = run(io_, nowhere.range("/f/"));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error.kind, EtcdError::Kind::kUnavailable);
  EXPECT_NE(failed->error.message.find("refused"), std::string::npos) << failed->error.message;
}

TEST_F(EtcdClientTest, TimesOutOnASilentEndpointThenFailsOver) {
  // Listening but never answering: the connection succeeds (the kernel's backlog) and the
  // request gets no answer.
  asio::ip::tcp::acceptor silent(io_, {asio::ip::make_address_v4("127.0.0.1"), 0});
  const uint16_t port = silent.local_endpoint().port();
  EtcdClient etcd = client({{"127.0.0.1", port}, {"127.0.0.1", etcd_.port()}}, milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  const auto range = run(io_, etcd.range("/"));
  ASSERT_TRUE(range && range->ok()) << range->error.message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(etcd.current_endpoint().port, etcd_.port());

  EtcdClient stuck = client({{"127.0.0.1", port}}, milliseconds(300));
  const auto failed = run(io_, stuck.lease_grant(5));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error.kind, EtcdError::Kind::kUnavailable);
  EXPECT_NE(failed->error.message.find("timed out"), std::string::npos) << failed->error.message;
}

// Without etcd: the messages.

TEST(EtcdMessagesTest, Base64RoundTripsAndRejectsGarbage) {
  for (const std::string text : {"", "a", "ab", "abc", "abcd", "/fulcrum/api/10.0.0.1:80"}) {
    EXPECT_EQ(base64_decode(base64_encode(text)), text);
  }
  EXPECT_EQ(base64_encode("/f/a"), "L2YvYQ==");  // As etcd wrote it.
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
  EXPECT_FALSE(base64_decode("a=b="));
}

TEST(EtcdMessagesTest, PrefixRangeEnd) {
  EXPECT_EQ(prefix_range_end("/a/"), "/a0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff", 1)), std::string(1, '\0'));
}

TEST(EtcdMessagesTest, WatchMessages) {
  WatchMessage message;
  // As etcd 3.4's gateway sends them.
  EXPECT_FALSE(
      parse_watch_message(R"({"result":{"header":{"revision":"5"},"created":true}})", message));
  EXPECT_TRUE(message.created);
  EXPECT_FALSE(parse_watch_message(
      R"({"result":{"header":{"revision":"7"},"events":[{"kv":{"key":"L2YvYw==","mod_revision":"6","value":"djE="}},{"type":"DELETE","kv":{"key":"L2YvYw==","mod_revision":"7"}}]}})",
      message));
  ASSERT_EQ(message.events.size(), 2u);
  EXPECT_EQ(message.events[0], (EtcdEvent{EtcdEvent::Type::kPut, "/f/c", "v1", 6}));
  EXPECT_EQ(message.events[1], (EtcdEvent{EtcdEvent::Type::kDelete, "/f/c", "", 7}));
  const EtcdError compacted = parse_watch_message(
      R"({"result":{"header":{},"canceled":true,"compact_revision":"6"}})", message);
  EXPECT_EQ(compacted.kind, EtcdError::Kind::kCompacted);
  EXPECT_EQ(compacted.compact_revision, 6);
  EXPECT_EQ(parse_watch_message(R"({"error":"bad","message":"bad","code":2})", message).kind,
            EtcdError::Kind::kServer);
  EXPECT_EQ(parse_watch_message("not json", message).kind, EtcdError::Kind::kProtocol);
  EXPECT_EQ(parse_watch_message(R"({"result":{"events":[{"kv":{"key":"!!"}}]}})", message).kind,
            EtcdError::Kind::kProtocol);
  // Fields of the wrong type are errors, not exceptions.
  EXPECT_EQ(parse_watch_message(R"({"result":{"created":"yes"}})", message).kind,
            EtcdError::Kind::kProtocol);
  EXPECT_EQ(
      parse_watch_message(R"({"result":{"events":[{"type":7,"kv":{"key":"YQ=="}}]}})", message)
          .kind,
      EtcdError::Kind::kProtocol);
  EtcdRangeResult range;
  EXPECT_EQ(parse_range_answer(R"({"header":{"revision":{}}})", range).kind,
            EtcdError::Kind::kProtocol);
  EXPECT_EQ(parse_error_answer(500, R"({"error":"x","code":"five"})").kind,
            EtcdError::Kind::kServer);
}

TEST(EtcdMessagesTest, Endpoints) {
  std::string error;
  const auto list = parse_etcd_endpoints("10.0.0.1:2379,etcd-b:2379,[::1]:2380", error);
  ASSERT_TRUE(list) << error;
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[1], (EtcdEndpoint{"etcd-b", 2379}));
  EXPECT_EQ((*list)[2], (EtcdEndpoint{"::1", 2380}));
  EXPECT_EQ((*list)[2].to_string(), "[::1]:2380");
  EXPECT_FALSE(parse_etcd_endpoints("10.0.0.1", error));
  EXPECT_FALSE(parse_etcd_endpoints("10.0.0.1:0", error));
  EXPECT_FALSE(parse_etcd_endpoints("a:1,", error));
  EXPECT_FALSE(parse_etcd_endpoints("::1:2379", error));
}

TEST(EtcdMessagesTest, EndpointUrlsAsEtcdctlTakesThem) {
  std::string error;
  const auto list =
      parse_etcd_endpoints("http://10.0.0.1:2379,https://etcd-b:2379,https://[::1]:2380", error);
  ASSERT_TRUE(list) << error;
  EXPECT_EQ((*list)[0], (EtcdEndpoint{"10.0.0.1", 2379, false}));
  EXPECT_EQ((*list)[1], (EtcdEndpoint{"etcd-b", 2379, true}));
  EXPECT_EQ((*list)[2].to_string(), "https://[::1]:2380");
  EXPECT_EQ((*list)[0].to_string(), "10.0.0.1:2379");
  EXPECT_FALSE(parse_etcd_endpoint("unix://etcd:2379", error));
  EXPECT_EQ(error, "etcd endpoint 'unix://etcd:2379': the scheme must be http:// or https://");
  EXPECT_FALSE(parse_etcd_endpoint("https://etcd", error));
  EXPECT_EQ(error, "etcd endpoint 'https://etcd': expected HOST:PORT");
}

TEST(EtcdMessagesTest, RefusedTokens) {
  // etcd 3.4's gateway: 401 with the gRPC code.
  const EtcdError refused = parse_error_answer(
      401,
      R"({"error":"etcdserver: invalid auth token","code":16,"message":"etcdserver: invalid auth token"})");
  EXPECT_TRUE(is_invalid_token(refused));
  EXPECT_FALSE(is_invalid_token(parse_error_answer(
      400,
      R"({"error":"etcdserver: authentication failed, invalid user ID or password","code":3})")));
  EXPECT_TRUE(is_invalid_token(parse_error_answer(401, "Unauthorized")));
  // A watch created with an expired token: etcd 3.4's gateway answers 200 and cancels it.
  WatchMessage message;
  EXPECT_TRUE(is_invalid_token(parse_watch_message(
      R"({"result":{"header":{"revision":"1"},"watch_id":"-1","created":true,"canceled":true,)"
      R"("cancel_reason":"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"}})",
      message)));
  std::string token;
  EXPECT_FALSE(parse_authenticate_answer(R"({"header":{},"token":"abc.12"})", token));
  EXPECT_EQ(token, "abc.12");
  EXPECT_TRUE(parse_authenticate_answer(R"({"header":{}})", token));
  EXPECT_EQ(authenticate_request("root", "p\"w"), R"({"name":"root","password":"p\"w"})");
}

TEST(EtcdMessagesTest, PasswordFileFirstLine) {
  const std::string path = ::testing::TempDir() + "/fulcrum-etcd-password";
  std::string error;
  { std::ofstream(path) << "s3cret\r\nignored\n"; }
  EXPECT_EQ(read_etcd_password(path, error), "s3cret");
  { std::ofstream(path) << "\n"; }
  EXPECT_FALSE(read_etcd_password(path, error));
  EXPECT_EQ(error, "the etcd password file " + path + " is empty");
  std::remove(path.c_str());
  EXPECT_FALSE(read_etcd_password(path, error));
  EXPECT_EQ(error, "cannot read the etcd password file " + path);
}

}  // namespace
}  // namespace fulcrum::discovery
