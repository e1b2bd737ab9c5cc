// tls::Stream, plain and TLS, as the sessions will use it: Asio's composed reads and writes,
// half-close in both directions, and a handshake cancelled through the socket (timeouts).

#include "tls/stream.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "net/no_throw.h"
#include "tls/loopback.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

using testing::Loopback;

class StreamTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const auto ca = testing::make_ca("Test CA");
    testing::CertSpec spec;
    spec.dns = {"server.test"};
    const auto files = testing::write_pem(dir_, "server", testing::make_leaf(ca, spec));
    config::TlsListenerConfig config;
    config.enabled = true;
    config.certificates = {{files.cert, files.key}};
    server_ = std::make_unique<ServerTlsContext>(config);
    client_ = testing::make_client_context({});
  }

  std::unique_ptr<testing::Connection> connect() {
    const bool tls = GetParam();
    auto c = loopback_.connect(
        [&](Loopback::Socket s) {
          return tls ? Stream::accept(std::move(s), *server_) : Stream(std::move(s));
        },
        [&](Loopback::Socket s) {
          return tls ? Stream(std::move(s), testing::client_session(client_.get(), "server.test"),
                              Stream::Role::kClient)
                     : Stream(std::move(s));
        });
    EXPECT_TRUE(c->ok());
    EXPECT_EQ(c->client->is_tls(), tls);
    EXPECT_EQ(c->server->ssl() != nullptr, tls);
    return c;
  }

  // Reads on `stream` until EOF; what arrived, and the error that ended it.
  std::pair<std::string, std::error_code> read_to_end(Stream& stream) {
    std::string received;
    std::error_code end;
    bool done = false;
    asio::co_spawn(
        loopback_.io(),
        [&]() -> asio::awaitable<void> {
          char buffer[4096];
          for (;;) {
            auto [ec, n] = co_await stream.async_read_some(asio::buffer(buffer), net::kNoThrow);
            received.append(buffer, n);
            if (ec) {
              end = ec;
              break;
            }
          }
          done = true;
        },
        asio::detached);
    EXPECT_TRUE(loopback_.run_until([&] { return done; }));
    return {received, end};
  }

  std::error_code shutdown_send(Stream& stream) {
    std::error_code result;
    bool done = false;
    asio::co_spawn(
        loopback_.io(),
        [&]() -> asio::awaitable<void> {
          auto [ec] = co_await stream.async_shutdown_send(net::kNoThrow);
          result = ec;
          done = true;
        },
        asio::detached);
    EXPECT_TRUE(loopback_.run_until([&] { return done; }));
    return result;
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerTlsContext> server_;
  SslCtxPtr client_;
  Loopback loopback_;
};

TEST_P(StreamTest, ComposedWritesAndReadsCarryLargeMessages) {
  auto c = connect();
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  EXPECT_EQ(loopback_.send(*c->client, *c->server, big), big);
  EXPECT_EQ(loopback_.send(*c->server, *c->client, big), big);
}

TEST_P(StreamTest, GatherWriteKeepsBufferOrder) {
  auto c = connect();
  bool done = false;
  asio::co_spawn(
      loopback_.io(),
      [&]() -> asio::awaitable<void> {
        const std::string head = "HEAD|";
        const std::string body(100000, 'b');
        const std::string tail = "|TAIL";
        std::array<asio::const_buffer, 3> pieces{asio::buffer(head), asio::buffer(body),
                                                 asio::buffer(tail)};
        co_await asio::async_write(*c->client, pieces, net::kNoThrow);
        done = true;
      },
      asio::detached);
  ASSERT_TRUE(loopback_.run_until([&] { return done; }));
  EXPECT_EQ(shutdown_send(*c->client), std::error_code());
  const auto [received, end] = read_to_end(*c->server);
  EXPECT_EQ(end, asio::error::eof);
  EXPECT_EQ(received, "HEAD|" + std::string(100000, 'b') + "|TAIL");
}

TEST_P(StreamTest, ShutdownSendEndsOneDirectionAndTheOtherStillFlows) {
  auto c = connect();
  // A read is already waiting on the client when it closes its sending side, as in a tunnel.
  std::string reply;
  std::error_code reply_end;
  bool reply_done = false;
  asio::co_spawn(
      loopback_.io(),
      [&]() -> asio::awaitable<void> {
        char buffer[64];
        for (;;) {
          auto [ec, n] = co_await c->client->async_read_some(asio::buffer(buffer), net::kNoThrow);
          reply.append(buffer, n);
          if (ec) {
            reply_end = ec;
            break;
          }
        }
        reply_done = true;
      },
      asio::detached);
  EXPECT_EQ(loopback_.send(*c->client, *c->server, "request"), "request");
  EXPECT_EQ(shutdown_send(*c->client), std::error_code());

  const auto [rest, end] = read_to_end(*c->server);
  EXPECT_EQ(rest, "");
  EXPECT_EQ(end, asio::error::eof);

  // The server answers after the client's end of input, then ends its own side.
  bool written = false;
  asio::co_spawn(
      loopback_.io(),
      [&]() -> asio::awaitable<void> {
        co_await asio::async_write(*c->server, asio::buffer(std::string("response")),
                                   net::kNoThrow);
        written = true;
      },
      asio::detached);
  ASSERT_TRUE(loopback_.run_until([&] { return written; }));
  EXPECT_EQ(shutdown_send(*c->server), std::error_code());
  ASSERT_TRUE(loopback_.run_until([&] { return reply_done; }));
  EXPECT_EQ(reply, "response");
  EXPECT_EQ(reply_end, asio::error::eof);
}

TEST_P(StreamTest, CancellingTheSocketAbortsAPendingRead) {
  auto c = connect();
  std::error_code result;
  bool done = false;
  asio::co_spawn(
      loopback_.io(),
      [&]() -> asio::awaitable<void> {
        char byte;
        auto [ec, n] = co_await c->server->async_read_some(asio::buffer(&byte, 1), net::kNoThrow);
        result = ec;
        done = true;
      },
      asio::detached);
  loopback_.io().poll();
  c->server->socket().cancel();
  ASSERT_TRUE(loopback_.run_until([&] { return done; }));
  EXPECT_EQ(result, asio::error::operation_aborted);
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, StreamTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Tls" : "Plain"; });

TEST(StreamHandshake, CancellingTheSocketAbortsAHandshakeWithASilentPeer) {
  Loopback loopback;
  testing::TempDir dir;
  const auto ca = testing::make_ca("Test CA");
  const auto files = testing::write_pem(dir, "server", testing::make_leaf(ca, {}));
  config::TlsListenerConfig config;
  config.certificates = {{files.cert, files.key}};
  ServerTlsContext server(config);
  // The client connects and then says nothing: the server's handshake waits for a ClientHello.
  asio::ip::tcp::acceptor acceptor(loopback.io(), {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket silent(loopback.io());
  silent.connect(acceptor.local_endpoint());
  std::optional<Stream> stream;
  stream.emplace(Stream::accept(acceptor.accept(), server));
  std::error_code result;
  bool done = false;
  asio::co_spawn(
      loopback.io(),
      [&]() -> asio::awaitable<void> {
        auto [ec] = co_await stream->async_handshake(net::kNoThrow);
        result = ec;
        done = true;
      },
      asio::detached);
  loopback.io().poll();
  EXPECT_FALSE(done);
  stream->socket().cancel();
  ASSERT_TRUE(loopback.run_until([&] { return done; }));
  EXPECT_EQ(result, asio::error::operation_aborted);
}

}  // namespace
}  // namespace fulcrum::tls
