// Session resumption by tickets, over real loopback connections, for TLS 1.3 and TLS 1.2: a
// returning client resumes, still after one key rotation, no longer after its key was dropped.

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tls/loopback.h"
#include "tls/server_context.h"
#include "tls/test_certs.h"

namespace fulcrum::tls {
namespace {

using testing::Loopback;

class TicketTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const auto ca = testing::make_ca("Test CA");
    testing::CertSpec spec;
    spec.common_name = "server";
    spec.dns = {"server.test"};
    const auto files = testing::write_pem(dir_, "server", testing::make_leaf(ca, spec));
    config_.enabled = true;
    config_.certificates = {{files.cert, files.key}};
    client_ = testing::make_client_context({.max_version = GetParam()});
  }

  // A full or resumed handshake offering `session`; then one byte from the server, so that the
  // client has processed the tickets TLS 1.3 sends after the handshake.
  std::unique_ptr<testing::Connection> connect(ServerTlsContext& server, SSL_SESSION* session) {
    auto c = loopback_.connect(
        [&](Loopback::Socket s) { return Stream::accept(std::move(s), server); },
        [&](Loopback::Socket s) {
          return Stream(std::move(s),
                        testing::client_session(client_.get(), "server.test", session),
                        Stream::Role::kClient);
        });
    EXPECT_TRUE(c->ok()) << c->server_error.message() << " / " << c->client_error.message();
    if (c->ok()) {
      EXPECT_EQ(loopback_.send(*c->server, *c->client, "x"), "x");
    }
    return c;
  }

  SslSessionPtr session_of(testing::Connection& c) {
    return SslSessionPtr(SSL_get1_session(c.client->ssl()));
  }

  testing::TempDir dir_;
  config::TlsListenerConfig config_;
  SslCtxPtr client_;
  Loopback loopback_;
};

TEST_P(TicketTest, ReturningClientResumes) {
  ServerTlsContext server(config_);
  auto first = connect(server, nullptr);
  EXPECT_FALSE(first->client->resumed());
  const SslSessionPtr session = session_of(*first);
  ASSERT_TRUE(session);
  EXPECT_EQ(SSL_SESSION_is_resumable(session.get()), 1);

  auto second = connect(server, session.get());
  EXPECT_TRUE(second->client->resumed());
  EXPECT_TRUE(second->server->resumed());
  EXPECT_EQ(SSL_version(second->server->ssl()), GetParam() == 0 ? TLS1_3_VERSION : GetParam());
}

std::string ticket_of(const SSL_SESSION* session) {
  const unsigned char* ticket = nullptr;
  std::size_t length = 0;
  SSL_SESSION_get0_ticket(session, &ticket, &length);
  return std::string(reinterpret_cast<const char*>(ticket), length);
}

// Clients resume connection after connection. TLS 1.3 clients (wrk, browsers) use a ticket once,
// so every resumption must hand out a fresh ticket for the next one, or every other handshake is
// a full one.
TEST_P(TicketTest, ResumedClientResumesAgain) {
  ServerTlsContext server(config_);
  // Kept open: freeing a connection that was not shut down marks its session not resumable.
  std::vector<std::unique_ptr<testing::Connection>> open;
  open.push_back(connect(server, nullptr));
  SslSessionPtr session = session_of(*open.back());
  for (int i = 0; i < 3; ++i) {
    open.push_back(connect(server, session.get()));
    EXPECT_TRUE(open.back()->server->resumed()) << "resumption " << i + 1;
    SslSessionPtr next = session_of(*open.back());
    ASSERT_TRUE(next);
    if (GetParam() == 0) {
      EXPECT_NE(ticket_of(next.get()), ticket_of(session.get())) << "resumption " << i + 1;
    }
    session = std::move(next);
  }
}

TEST_P(TicketTest, TicketSurvivesOneRotationButNotTwo) {
  ServerTlsContext server(config_);
  auto first = connect(server, nullptr);
  const SslSessionPtr session = session_of(*first);

  server.rotate_ticket_keys();  // The ticket's key is now the previous one: still accepted.
  auto after_one = connect(server, session.get());
  EXPECT_TRUE(after_one->server->resumed());

  server.rotate_ticket_keys();  // Its key is dropped: a full handshake, and it succeeds.
  auto after_two = connect(server, session.get());
  EXPECT_FALSE(after_two->server->resumed());
  EXPECT_FALSE(after_two->client->resumed());
}

TEST_P(TicketTest, TicketFromThePreviousKeyIsReplacedByOneUnderTheCurrentKey) {
  ServerTlsContext server(config_);
  auto first = connect(server, nullptr);
  const SslSessionPtr old_session = session_of(*first);
  server.rotate_ticket_keys();
  auto renewed = connect(server, old_session.get());
  ASSERT_TRUE(renewed->server->resumed());
  const SslSessionPtr fresh_session = session_of(*renewed);

  server.rotate_ticket_keys();  // The first ticket's key is gone; the renewed ticket's is not.
  auto later = connect(server, fresh_session.get());
  EXPECT_TRUE(later->server->resumed());
}

// The proxy runs no timer for ticket keys: starting a session rotates them when a rotation is
// due, twice when two periods or more went by without one.
TEST(TicketRotationTest, KeysRotateOnScheduleAsSessionsStart) {
  testing::TempDir dir;
  const auto ca = testing::make_ca("Test CA");
  testing::CertSpec spec;
  spec.dns = {"server.test"};
  const auto files = testing::write_pem(dir, "server", testing::make_leaf(ca, spec));
  config::TlsListenerConfig config;
  config.enabled = true;
  config.certificates = {{files.cert, files.key}};
  config.ticket_key_rotation = std::chrono::seconds(1);
  using Clock = std::chrono::steady_clock;
  const ServerTlsContext server(config);
  const Clock::time_point built = Clock::now();  // Just after the schedule started.
  const auto pass = [](Clock::time_point until) {
    while (Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  EXPECT_EQ(server.rotate_ticket_keys_if_due(), 0);
  pass(built + std::chrono::milliseconds(1200));
  ASSERT_TRUE(server.new_session());                 // Rotates once, on the way.
  EXPECT_EQ(server.rotate_ticket_keys_if_due(), 0);  // Nothing due right after.
  pass(built + std::chrono::milliseconds(3200));     // Two more periods without a session.
  EXPECT_EQ(server.rotate_ticket_keys_if_due(), 2);
  EXPECT_EQ(server.rotate_ticket_keys_if_due(), 0);
}

TEST_P(TicketTest, SessionsResumeAcrossACertificateReload) {
  ServerTlsContext server(config_);
  auto first = connect(server, nullptr);
  const SslSessionPtr session = session_of(*first);
  server.reload();
  auto second = connect(server, session.get());
  EXPECT_TRUE(second->server->resumed());
}

TEST_P(TicketTest, SessionOfAConnectionClosedWithCloseNotifyResumesButNotOfOneDropped) {
  ServerTlsContext server(config_);
  SslSessionPtr clean_session;
  SslSessionPtr dropped_session;
  {
    auto clean = connect(server, nullptr);
    clean_session = session_of(*clean);
    bool sent = false;
    asio::co_spawn(
        loopback_.io(),
        [&]() -> asio::awaitable<void> {
          co_await clean->client->async_shutdown_send(
              asio::experimental::as_tuple(asio::use_awaitable));
          sent = true;
        },
        asio::detached);
    ASSERT_TRUE(loopback_.run_until([&] { return sent; }));
    auto dropped = connect(server, nullptr);
    dropped_session = session_of(*dropped);
  }  // Both connections are freed here; only the first ended properly.
  EXPECT_TRUE(connect(server, clean_session.get())->server->resumed());
  // TLS forbids resuming the session of a connection that was cut off; OpenSSL enforces it on
  // the client, which therefore offers no ticket.
  EXPECT_FALSE(connect(server, dropped_session.get())->client->resumed());
}

TEST_P(TicketTest, NoResumptionWithTicketsOff) {
  config_.session_tickets = false;
  ServerTlsContext server(config_);
  auto first = connect(server, nullptr);
  const SslSessionPtr session = session_of(*first);
  auto second = connect(server, session.get());
  EXPECT_FALSE(second->server->resumed());
}

INSTANTIATE_TEST_SUITE_P(Versions, TicketTest, ::testing::Values(0, TLS1_2_VERSION),
                         [](const auto& info) {
                           return info.param == 0 ? std::string("Tls13") : std::string("Tls12");
                         });

}  // namespace
}  // namespace fulcrum::tls
