#include "tests/proxy/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace fulcrum::proxy::testing {
namespace {

constexpr std::size_t kClientBufferSize = 256 * 1024;

std::string pattern(std::size_t size, unsigned seed) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return bytes;
}

std::string_view find_head_end(std::string_view bytes, std::size_t& head_size) {
  const std::size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return {};
  head_size = end + 4;
  return bytes.substr(0, head_size);
}

/// The value of header `name` (ASCII case-insensitive) in a head, "" when absent.
std::string_view header_value(std::string_view head, std::string_view name) {
  for (std::size_t line = head.find("\r\n"); line != std::string_view::npos;
       line = head.find("\r\n", line + 2)) {
    const std::string_view rest = head.substr(line + 2);
    if (rest.size() > name.size() && rest[name.size()] == ':' &&
        ::strncasecmp(rest.data(), name.data(), name.size()) == 0) {
      std::string_view value = rest.substr(name.size() + 1, rest.find("\r\n") - name.size() - 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
  }
  return {};
}

uint64_t parse_number(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return UINT64_MAX;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return digits.empty() ? UINT64_MAX : value;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

TestBodies::TestBodies() : small(pattern(100, 1)), big(pattern(64 * 1024, 3)) {
  for (unsigned i = 0; i < 5; ++i) chunked += "4000\r\n" + pattern(16 * 1024, i) + "\r\n";
  chunked += "0\r\n\r\n";
}

RawBackend::RawBackend(const TestBodies& bodies)
    : small_response_("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + bodies.small),
      chunked_response_("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + bodies.chunked),
      big_response_("HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + bodies.big),
      connections_(std::make_unique<Connection[]>(kMaxConnections)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener_, 128) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("backend: cannot listen");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

RawBackend::~RawBackend() {
  stop_ = true;
  thread_.join();
  for (int i = 0; i < kMaxConnections; ++i) {
    if (connections_[i].fd >= 0) ::close(connections_[i].fd);
  }
  ::close(listener_);
}

void RawBackend::serve() {
  pollfd fds[kMaxConnections + 1];
  while (!stop_) {
    if (held_ > 0 && (held_ >= hold_target_.load() ||
                      std::chrono::steady_clock::now() - first_held_ > std::chrono::seconds(5))) {
      release_held();
    }
    fds[0] = {listener_, POLLIN, 0};
    for (int i = 0; i < kMaxConnections; ++i) fds[i + 1] = {connections_[i].fd, POLLIN, 0};
    if (::poll(fds, kMaxConnections + 1, 50) <= 0) continue;  // Timeout: look at stop_ again.
    if (fds[0].revents & POLLIN) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      int slot = 0;
      while (slot < kMaxConnections && connections_[slot].fd >= 0) ++slot;
      if (slot == kMaxConnections) {
        ::close(fd);
      } else if (fd >= 0) {
        const int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        connections_[slot].fd = fd;
        connections_[slot].used = 0;
      }
    }
    for (int i = 0; i < kMaxConnections; ++i) {
      Connection& connection = connections_[i];
      if (connection.fd < 0 || fds[i + 1].fd != connection.fd || fds[i + 1].revents == 0) continue;
      const ssize_t n = ::recv(connection.fd, connection.buffer + connection.used,
                               kBufferSize - connection.used, 0);
      if (n > 0) connection.used += static_cast<std::size_t>(n);
      if (n <= 0 || !answer_buffered(connection)) {
        if (connection.held) --held_;
        connection.held = false;
        ::close(connection.fd);
        connection.fd = -1;
      }
    }
  }
}

void RawBackend::release_held() {
  held_ = 0;
  hold_target_ = 0;
  for (int i = 0; i < kMaxConnections; ++i) {
    Connection& connection = connections_[i];
    if (!connection.held) continue;
    connection.held = false;
    if (!answer_buffered(connection)) {
      ::close(connection.fd);
      connection.fd = -1;
    }
  }
}

bool RawBackend::answer_buffered(Connection& connection) {
  for (;;) {
    const std::string_view bytes(connection.buffer, connection.used);
    std::size_t head_size = 0;
    const std::string_view head = find_head_end(bytes, head_size);
    if (head.empty()) return connection.used < kBufferSize;  // Wait for the rest of the head.
    const std::string_view length = header_value(head, "content-length");
    const uint64_t body = length.empty() ? 0 : parse_number(length);
    if (body > kBufferSize - head_size) return false;
    if (bytes.size() < head_size + body) return true;  // Wait for the rest of the body.
    const std::string_view target = head.substr(head.find(' ') + 1);
    if (target.starts_with("/hold ") && hold_target_.load() > 0) {
      if (!connection.held) {
        if (held_++ == 0) first_held_ = std::chrono::steady_clock::now();
        connection.held = true;
      }
      return true;  // Answered by release_held().
    }
    const std::string* response = &small_response_;
    if (target.starts_with("/chunked ")) response = &chunked_response_;
    if (target.starts_with("/big ")) response = &big_response_;
    if (!send_all(connection.fd, *response)) return false;
    requests_.fetch_add(1);
    const std::size_t consumed = head_size + static_cast<std::size_t>(body);
    std::memmove(connection.buffer, connection.buffer + consumed, connection.used - consumed);
    connection.used -= consumed;
  }
}

RawClient::RawClient(uint16_t port, SSL_CTX* tls)
    : buffer_(std::make_unique<char[]>(kClientBufferSize)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const timeval stall{10, 0};
  const int on = 1;
  if (fd_ < 0 || ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof stall) != 0 ||
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    return;
  }
  if (tls == nullptr) return;
  ssl_ = SSL_new(tls);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1 || SSL_connect(ssl_) != 1) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view bytes) {
  if (ssl_ == nullptr) return send_all(fd_, bytes);
  // Without partial writes, SSL_write sends everything or fails.
  return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
         static_cast<int>(bytes.size());
}

bool RawClient::fill() {
  if (begin_ == end_) begin_ = end_ = 0;
  if (end_ == kClientBufferSize) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    if (end_ == kClientBufferSize) return false;
  }
  const std::size_t room = kClientBufferSize - end_;
  const ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, buffer_.get() + end_, static_cast<int>(room))
                                    : ::recv(fd_, buffer_.get() + end_, room, 0);
  if (n <= 0) return false;
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool RawClient::expect(std::string_view body, bool chunked) {
  std::size_t head_size = 0;
  std::string_view head;
  while ((head = find_head_end({buffer_.get() + begin_, end_ - begin_}, head_size)).empty()) {
    if (!fill()) return false;
  }
  if (!head.starts_with("HTTP/1.1 200 ")) return false;
  if (chunked ? header_value(head, "transfer-encoding") != "chunked"
              : parse_number(header_value(head, "content-length")) != body.size()) {
    return false;
  }
  while (end_ - begin_ < head_size + body.size()) {
    if (!fill()) return false;
  }
  const bool same = std::memcmp(buffer_.get() + begin_ + head_size, body.data(), body.size()) == 0;
  begin_ += head_size + body.size();
  return same;
}

}  // namespace fulcrum::proxy::testing
