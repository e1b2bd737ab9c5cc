// net::connect and net::connect_by_name against real loopback listeners: what a connection is
// set up with, and how each failure is classified and described.

#include "net/connect.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "net/connect_by_name.h"

namespace fulcrum::net {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class ConnectTest : public ::testing::Test {
 protected:
  ConnectTest() : listener_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  tcp::endpoint listening() const { return listener_.local_endpoint(); }

  /// A port nothing listens on: bound, then closed.
  tcp::endpoint closed_port() {
    tcp::acceptor gone(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const tcp::endpoint endpoint = gone.local_endpoint();
    gone.close();
    return endpoint;
  }

  /// Runs `task` to its end, failing the test if it takes longer than 10 s.
  template <typename T>
  T run(asio::awaitable<T> task) {
    io_.restart();  // A previous run may have stopped it by running out of work.
    std::optional<T> result;
    asio::co_spawn(io_, std::move(task), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      result = std::move(value);
    });
    // Until the result, not until no work is left: a Deadline's timer stays pending until due.
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (!result && Clock::now() < give_up) io_.run_one_for(milliseconds(100));
    EXPECT_TRUE(result.has_value()) << "did not finish within 10 s";
    return result ? std::move(*result) : T{};
  }

  asio::io_context io_;
  tcp::acceptor listener_;
};

int int_option(tls::Stream& stream, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  getsockopt(stream.socket().native_handle(), level, name, &value, &length);
  return value;
}

TEST_F(ConnectTest, ConnectsWithNoDelayAndLingersByDefault) {
  Deadline deadline(io_.get_executor());
  Connected connected = run(connect(
      io_.get_executor(), {.endpoint = listening(), .timeout = milliseconds(2000)}, deadline));
  ASSERT_TRUE(connected) << connected.reason;
  EXPECT_FALSE(connected.stream->is_tls());
  EXPECT_EQ(int_option(*connected.stream, IPPROTO_TCP, TCP_NODELAY), 1);
  linger value{};
  socklen_t length = sizeof value;
  getsockopt(connected.stream->socket().native_handle(), SOL_SOCKET, SO_LINGER, &value, &length);
  EXPECT_EQ(value.l_onoff, 0);
}

TEST_F(ConnectTest, CloseWithResetSetsLingerZero) {
  Deadline deadline(io_.get_executor());
  Connected connected = run(
      connect(io_.get_executor(),
              {.endpoint = listening(), .timeout = milliseconds(2000), .close_with_reset = true},
              deadline));
  ASSERT_TRUE(connected) << connected.reason;
  linger value{};
  socklen_t length = sizeof value;
  getsockopt(connected.stream->socket().native_handle(), SOL_SOCKET, SO_LINGER, &value, &length);
  EXPECT_EQ(value.l_onoff, 1);
  EXPECT_EQ(value.l_linger, 0);
}

TEST_F(ConnectTest, RefusedIsClassifiedAndDescribed) {
  Deadline deadline(io_.get_executor());
  Connected connected = run(connect(
      io_.get_executor(), {.endpoint = closed_port(), .timeout = milliseconds(2000)}, deadline));
  EXPECT_FALSE(connected);
  EXPECT_EQ(connected.failure, core::FailureCause::kRefused);
  EXPECT_EQ(connected.reason, "connection refused");
  EXPECT_FALSE(deadline.expired());
}

TEST_F(ConnectTest, SilentTlsServerTimesOutAtTheGiveUpTime) {
  // Accepted by the kernel, never answered: the TLS handshake waits until the deadline.
  config::TlsClusterConfig settings;
  settings.enabled = true;
  settings.verify = false;
  const tls::ClientTlsContext tls_context(settings);
  Deadline deadline(io_.get_executor());
  const auto started = Clock::now();
  Connected connected = run(connect(io_.get_executor(),
                                    {.endpoint = listening(),
                                     .server = "127.0.0.1",
                                     .tls = &tls_context,
                                     .timeout = std::chrono::seconds(5),
                                     .give_up_at = started + milliseconds(200)},
                                    deadline));
  const auto took = Clock::now() - started;
  EXPECT_FALSE(connected);
  EXPECT_EQ(connected.failure, core::FailureCause::kTimeout);
  EXPECT_EQ(connected.reason, "TLS handshake failed: timed out within the connect timeout");
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(3000));
}

TEST_F(ConnectTest, PlainServerFailsTheTlsHandshakeAsAReset) {
  // A server that answers the ClientHello with plain text (as an HTTP server would).
  config::TlsClusterConfig settings;
  settings.enabled = true;
  settings.verify = false;
  const tls::ClientTlsContext tls_context(settings);
  tcp::socket accepted(io_);
  listener_.async_accept(accepted, [&](std::error_code ec) {
    if (ec) return;
    static const char kAnswer[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
    asio::write(accepted, asio::buffer(kAnswer, sizeof kAnswer - 1), ec);
    accepted.close(ec);
  });
  Deadline deadline(io_.get_executor());
  Connected connected = run(connect(io_.get_executor(),
                                    {.endpoint = listening(),
                                     .server = "127.0.0.1:1",
                                     .tls = &tls_context,
                                     .timeout = std::chrono::seconds(5)},
                                    deadline));
  EXPECT_FALSE(connected);
  EXPECT_EQ(connected.failure, core::FailureCause::kReset);
  EXPECT_TRUE(connected.reason.starts_with("TLS handshake failed: ")) << connected.reason;
}

TEST_F(ConnectTest, ByNameConnectsToLiteralsAndNames) {
  const std::string port = std::to_string(listening().port());
  for (const char* host : {"127.0.0.1", "localhost"}) {
    tcp::socket socket(io_);
    const std::error_code ec = run(connect_by_name(socket, host, port));
    // "localhost" may resolve to ::1 first, where nothing listens: async_connect moves on.
    EXPECT_FALSE(ec) << host << ": " << ec.message();
    EXPECT_TRUE(socket.is_open()) << host;
  }
}

TEST_F(ConnectTest, ByNameRefusesBadPorts) {
  for (const char* port : {"", "x", "80x", "65536", "-1"}) {
    tcp::socket socket(io_);
    EXPECT_EQ(run(connect_by_name(socket, "127.0.0.1", port)),
              std::error_code(asio::error::invalid_argument))
        << "port '" << port << "'";
  }
}

TEST_F(ConnectTest, ByNameReportsRefused) {
  tcp::socket socket(io_);
  const std::string port = std::to_string(closed_port().port());
  EXPECT_EQ(run(connect_by_name(socket, "127.0.0.1", port)),
            std::error_code(asio::error::connection_refused));
}

}  // namespace
}  // namespace fulcrum::net
