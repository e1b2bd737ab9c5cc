// A service balancing its own connections with libfulcrum. Two servers on 127.0.0.1 stand in for
// a fleet: the first in the list is down (its port refuses connections), the second echoes a
// line. The connector fails over to the second server, and the manager remembers: the failed
// server moved to the end of the list.
#include <fulcrum/client.h>

#include <asio.hpp>
#include <iostream>
#include <memory>
#include <string>

namespace fc = fulcrum::client;

namespace {

std::string address_of(const asio::ip::tcp::acceptor& acceptor) {
  return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
}

// The echo server: answers the first line of one connection.
asio::awaitable<void> echo_once(asio::ip::tcp::acceptor& acceptor) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  std::string line;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(line), '\n', asio::use_awaitable);
  co_await asio::async_write(socket, asio::buffer(line), asio::use_awaitable);
}

}  // namespace

int main() {
  asio::io_context io;
  const auto loopback = asio::ip::make_address("127.0.0.1");
  asio::ip::tcp::acceptor up(io, {loopback, 0});
  asio::ip::tcp::acceptor down(io);  // Bound, never listening: connections are refused.
  down.open(asio::ip::tcp::v4());
  down.bind({loopback, 0});

  auto manager = std::make_shared<fc::ServerManager>();
  manager->add_server({.address = address_of(down)});
  manager->add_server({.address = address_of(up)});

  fc::Connector connector(io.get_executor(), manager,
                          {.max_retries = 2,
                           .max_retries_alternative = 1,
                           .on_reconnect = [](fc::ReconnectEvent& event) {
                             std::cout << "reconnect: alternative=" << event.alternative
                                       << " retries_left=" << event.retries_left << " to "
                                       << event.address << " (" << event.error.message() << ")\n";
                           }});

  int status = 1;
  asio::co_spawn(io, echo_once(up), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        fc::Connection connection = co_await connector.connect();
        co_await asio::async_write(connection.socket, asio::buffer(std::string("ping\n")),
                                   asio::use_awaitable);
        std::string reply;
        co_await asio::async_read_until(connection.socket, asio::dynamic_buffer(reply), '\n',
                                        asio::use_awaitable);
        std::cout << "connected to " << connection.address << " in " << connection.attempts
                  << " attempts, reply: " << reply;
        std::cout << "servers now:";
        for (const auto& server : manager->servers()) std::cout << ' ' << server.address;
        std::cout << '\n';
        const bool ok = reply == "ping\n" && connection.address == address_of(up) &&
                        manager->servers().back().address == address_of(down);
        status = ok ? 0 : 1;
      },
      [](std::exception_ptr failure) {
        try {
          if (failure) std::rethrow_exception(failure);
        } catch (const std::exception& e) {
          std::cerr << "error: " << e.what() << '\n';
        }
      });
  io.run();
  std::cout << (status == 0 ? "ok" : "FAILED") << '\n';
  return status;
}
