#pragma once

// A blocking HTTP/1.1 client for the admin tests: one request per connection (Connection: close)
// over a real socket to 127.0.0.1, read until the server closes.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fulcrum::admin::testing {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< Lower-case names.
  std::string body;

  nlohmann::json json() const { return nlohmann::json::parse(body); }
  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// Sends `bytes` to 127.0.0.1:`port` and returns everything received until the server closes
/// (or 5 s of silence).
inline std::string exchange_raw(uint16_t port, std::string_view bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    throw std::runtime_error("connect");
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string received;
  char chunk[65536];
  for (;;) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  close(fd);
  return received;
}

/// Parses the first response in `text` (Content-Length framed).
inline Reply parse_reply(std::string_view text, std::size_t* consumed = nullptr) {
  Reply reply;
  const std::size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string_view::npos || text.size() < 12) {
    throw std::runtime_error("no complete response in: " + std::string(text));
  }
  reply.status = std::stoi(std::string(text.substr(9, 3)));
  std::size_t line = text.find("\r\n") + 2;
  while (line < head_end) {
    const std::size_t next = text.find("\r\n", line);
    const std::string_view field = text.substr(line, next - line);
    const std::size_t colon = field.find(':');
    std::string name(field.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = field.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    reply.headers[name] = std::string(value);
    line = next + 2;
  }
  const std::size_t length = std::stoul(
      reply.header("content-length").empty() ? std::string("0") : reply.header("content-length"));
  reply.body = std::string(text.substr(head_end + 4, length));
  if (consumed != nullptr) *consumed = head_end + 4 + length;
  return reply;
}

inline Reply request(uint16_t port, std::string_view method, std::string_view target,
                     std::string_view body = {}, std::string_view token = {}) {
  std::string bytes = std::string(method) + " " + std::string(target) +
                      " HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n";
  if (!token.empty()) bytes += "Authorization: Bearer " + std::string(token) + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") {
    bytes +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += "\r\n";
  bytes += body;
  return parse_reply(exchange_raw(port, bytes));
}

}  // namespace fulcrum::admin::testing
