#pragma once

// An HTTP/1.1 origin and client over raw POSIX sockets with buffers allocated up front, so that
// neither allocates while requests flow: what the allocation test needs around the proxy.

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace fulcrum::proxy::testing {

/// The bodies the origin serves, as they travel on the wire (the proxy forwards bodies verbatim).
struct TestBodies {
  TestBodies();
  std::string small;    ///< /small: 100 bytes, Content-Length.
  std::string chunked;  ///< /chunked: 80 KiB in five chunks, the whole chunked coding.
  std::string big;      ///< /big: 64 KiB, Content-Length.
};

/// Keep-alive origin on 127.0.0.1 (port 0): answers GET or PUT of /small, /chunked and /big,
/// reading a request body by its Content-Length. One thread, poll(), blocking writes.
class RawBackend {
 public:
  explicit RawBackend(const TestBodies& bodies);
  ~RawBackend();
  RawBackend(const RawBackend&) = delete;
  RawBackend& operator=(const RawBackend&) = delete;

  uint16_t port() const { return port_; }
  uint64_t requests() const { return requests_.load(); }
  /// Requests for /hold are answered only once `count` of them wait at once (or 5 s after the
  /// first), so that many connections to the backend are open together. Set before sending.
  void hold_until(int count) { hold_target_ = count; }

 private:
  static constexpr int kMaxConnections = 128;
  static constexpr std::size_t kBufferSize = 16 * 1024;
  struct Connection {
    int fd = -1;
    std::size_t used = 0;
    bool held = false;  ///< Its /hold request waits for the others.
    char buffer[kBufferSize];
  };

  void serve();
  /// Answers every held connection's buffered requests; closes those that fail.
  void release_held();
  bool answer_buffered(Connection& connection);  ///< False when the connection must close.

  std::string small_response_;
  std::string chunked_response_;
  std::string big_response_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::unique_ptr<Connection[]> connections_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::atomic<int> hold_target_{0};
  int held_ = 0;
  std::chrono::steady_clock::time_point first_held_{};
  std::thread thread_;
};

/// One keep-alive client connection with a fixed 256 KiB receive buffer; over TLS when given a
/// client context (the handshake is done in the constructor, blocking).
class RawClient {
 public:
  explicit RawClient(uint16_t port, SSL_CTX* tls = nullptr);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  /// Writes `bytes` (one request, or several pipelined) in one send.
  bool send(std::string_view bytes);
  /// Reads the next response: true when it is a 200 whose body is exactly `body` (the wire form,
  /// announced by Content-Length, or chunked when `chunked`).
  bool expect(std::string_view body, bool chunked);

 private:
  bool fill();  ///< Reads more bytes; false on EOF, error or a 10 s stall.

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace fulcrum::proxy::testing
