#include "app/demo.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <random>
#include <system_error>
#include <vector>

#include "app/daemon.h"
#include "config/config.h"
#include "http/forward.h"
#include "http/message.h"
#include "net/no_throw.h"
#include "tls/config_files.h"

namespace fulcrum::demo {

namespace {

asio::awaitable<void> answer(asio::ip::tcp::socket socket, int index) {
  std::array<char, 16 * 1024> buffer;
  std::size_t used = 0;
  for (;;) {
    http::RequestHead head;
    http::ParseError error;
    const auto result =
        http::parse_request_head(std::string_view(buffer.data(), used), {}, head, error);
    if (result == http::ParseResult::kError) co_return;
    if (result == http::ParseResult::kIncomplete) {
      if (used == buffer.size()) co_return;
      auto [ec, n] = co_await socket.async_read_some(
          asio::buffer(buffer.data() + used, buffer.size() - used), net::kNoThrow);
      if (ec) co_return;
      used += n;
      continue;
    }
    const std::string body = fmt::format("Hello from demo backend {} (pid {}): {} {}\n", index,
                                         ::getpid(), head.method, head.target);
    const std::string response = fmt::format(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nX-Backend: {}\r\n"
        "{}\r\n{}",
        body.size(), index, head.keep_alive ? "" : "Connection: close\r\n", body);
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(response), net::kNoThrow);
    if (ec || !head.keep_alive) co_return;
    // Demo requests carry no body worth reading; skip it when they do.
    const std::size_t consumed =
        std::min(used, head.head_size + static_cast<std::size_t>(head.content_length));
    std::memmove(buffer.data(), buffer.data() + consumed, used - consumed);
    used -= consumed;
  }
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, int index) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::kNoThrow);
    if (ec) continue;
    asio::co_spawn(acceptor.get_executor(), answer(std::move(socket), index), asio::detached);
  }
}

constexpr uint16_t kAdminPort = 9901;

// 9901 when it is free, else 0: the kernel picks a free port and the demo prints the one bound.
std::string admin_listen() {
  asio::io_context io;
  std::error_code ec;
  asio::ip::tcp::acceptor probe(io);
  const asio::ip::tcp::endpoint wanted(asio::ip::make_address("127.0.0.1"), kAdminPort);
  probe.open(wanted.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(wanted, ec);
  return ec ? "127.0.0.1:0   # 9901 is taken: any free port"
            : fmt::format("127.0.0.1:{}", kAdminPort);
}

// A fresh token per run (128 bits from the kernel's generator): the demo writes no token file.
std::string random_token() {
  std::random_device random;
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", random());
  return token;
}

void print_status_page(uint16_t admin_port, const std::string& token, uint16_t first_backend) {
  std::printf(
      "Status page (open it in a browser; the link hands the admin token to the page, which\n"
      "its drain, enable and disable buttons need):\n"
      "  http://127.0.0.1:%u/#token=%s\n"
      "Admin API, token %s (reads on loopback need none, changes do):\n"
      "  curl -s http://127.0.0.1:%u/api/v1/clusters/demo\n"
      "  curl -s -X PATCH -H 'Authorization: Bearer %s' -d '{\"state\": \"drain\"}' \\\n"
      "       http://127.0.0.1:%u/api/v1/clusters/demo/servers/127.0.0.1:%u\n\n",
      admin_port, token.c_str(), token.c_str(), admin_port, token.c_str(), admin_port,
      first_backend);
  std::fflush(stdout);
}

}  // namespace

void serve_backend(int fd, int index) {
  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::v4(), fd);
  asio::co_spawn(io, accept_loop(acceptor, index), asio::detached);
  io.run();
  std::_Exit(0);
}

int run() {
  constexpr int kBackends = 3;
  std::vector<pid_t> children;
  std::vector<uint16_t> ports;
  {
    asio::io_context io;
    for (int i = 1; i <= kBackends; ++i) {
      asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
      ports.push_back(acceptor.local_endpoint().port());
      // Fork before any thread exists; the child serves the socket it inherits.
      const pid_t pid = ::fork();
      if (pid < 0) {
        std::perror("fork");
        return 1;
      }
      if (pid == 0) serve_backend(::dup(acceptor.native_handle()), i);
      children.push_back(pid);
    }
  }

  std::string yaml = fmt::format(
      "workers: 2\n"
      "listeners:\n"
      "  - name: demo\n"
      "    listen: 127.0.0.1:8080\n"
      "    mode: http\n"
      "    routes:\n"
      "      - cluster: demo\n"
      "clusters:\n"
      "  - name: demo\n"
      "    policy: round_robin\n"
      "    passive: {{ attempts: 1, offline_timeout: 10s }}\n"
      "    retries: 2\n"
      "    servers:\n"
      "      - address: 127.0.0.1:{}\n"
      "      - address: 127.0.0.1:{}\n"
      "      - address: 127.0.0.1:{}\n"
      "access_log: {{ enabled: true, format: text, path: stdout }}\n"
      "admin:\n"
      "  listen: {}\n"
      "  state_file: \"\"   # run-time changes are not kept\n",
      ports[0], ports[1], ports[2], admin_listen());
  std::printf("fulcrum --demo: three demo backends and the proxy, all on loopback.\n\n");
  std::printf("Configuration in use:\n\n%s\n", yaml.c_str());
  std::printf("Try:\n");
  std::printf("  curl http://127.0.0.1:8080/   (a few times: the answers rotate over backends)\n");
  for (int i = 0; i < kBackends; ++i) {
    std::printf(
        "  kill %d   stops demo backend %d (port %u); keep curling: no request fails,\n"
        "            the dead backend is skipped for offline_timeout (10s), then tried\n"
        "            again once\n",
        children[i], i + 1, ports[i]);
  }
  std::printf("  Ctrl-C stops the proxy and the backends.\n");
  std::printf("The status page's address and admin token follow once the proxy runs.\n\n");
  std::fflush(stdout);

  int status = 0;
  try {
    config::Config config = tls::load_checked_config_string(yaml, "demo");
    // In place of a token_file: the token lives only in this process and the printed link.
    const std::string token = random_token();
    config.admin.token = token;
    fulcrum::app::Daemon daemon(std::move(config));
    daemon.start();
    print_status_page(daemon.admin_port(), token, ports[0]);
    status = daemon.run_until_signal();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fulcrum --demo: %s\n", e.what());
    status = 1;
  }
  for (pid_t pid : children) ::kill(pid, SIGTERM);
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  return status;
}

}  // namespace fulcrum::demo
