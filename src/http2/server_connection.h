#pragma once

// The server side of one HTTP/2 connection, without I/O: bytes from the client go in, requests
// come out as events, the proxy's answers go back in, and bytes to send come out. Framing, HPACK,
// flow control and the protocol's own checks (RFC 9113 §8.2: no connection-specific fields, no
// CR/LF/NUL in values, content-length agreeing with DATA) are nghttp2's; this class sets the
// limits, keeps each stream's pending response bytes, and passes flow-control credit back only
// as the proxy takes request bytes, so a stream never holds more than its window.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace fulcrum::http2 {

struct Header {
  std::string_view name;  ///< Lower-case, as HTTP/2 requires.
  std::string_view value;
};

/// Every default is documented in docs/http2.md.
struct ServerLimits {
  uint32_t max_concurrent_streams = 100;
  /// The decoded header list of one request (names + values + 32 per field, RFC 9113 §6.5.2).
  uint32_t max_header_list_bytes = 64 * 1024;
  uint32_t header_table_bytes = 4096;  ///< HPACK dynamic table the client may use.
  uint32_t stream_window_bytes = 256 * 1024;
  uint32_t connection_window_bytes = 1024 * 1024;
};

/// A request head as the client sent it. Views valid while the stream is open.
struct RequestHead {
  std::string_view method;
  std::string_view scheme;
  std::string_view authority;
  std::string_view path;
  std::span<const Header> headers;  ///< Regular fields, in order.
};

/// What the connection reports; each call names the stream.
class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  /// A complete request head. `end_stream`: no body follows.
  virtual void on_request(int32_t stream, const RequestHead& head, bool end_stream) = 0;
  /// Request body bytes; credit returns to the client only through consume().
  virtual void on_request_data(int32_t stream, std::span<const uint8_t> data) = 0;
  /// The request body ended, with trailers if the client sent any.
  virtual void on_request_end(int32_t stream, std::span<const Header> trailers) = 0;
  /// The stream is gone: answered, reset by either side (`error_code` != 0), or the connection
  /// ended. Nothing more is reported for it.
  virtual void on_stream_closed(int32_t stream, uint32_t error_code) = 0;
};

class ServerConnection {
 public:
  ServerConnection(const ServerLimits& limits, ServerEvents& events);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  /// Feeds bytes read from the client. False on a connection error (a GOAWAY is queued: send
  /// the output, then close).
  bool receive(std::span<const uint8_t> bytes);
  /// The next bytes to send, empty when there are none. Valid until the next call of any method.
  std::span<const uint8_t> output();
  /// Neither side has anything more to say: close the connection.
  bool finished() const;

  /// The response head; `end_stream` when no body follows. False if the stream is gone.
  bool respond(int32_t stream, int status, std::span<const Header> headers, bool end_stream);
  /// Queues response body bytes (copied).
  void send_data(int32_t stream, std::span<const uint8_t> data);
  /// Ends the response body, with trailers (gRPC's grpc-status) when given.
  void end_response(int32_t stream, std::span<const Header> trailers = {});
  /// Response bytes queued and not yet framed: the proxy stops reading its server beyond a bound.
  std::size_t queued_bytes(int32_t stream) const;
  /// RST_STREAM with `error_code` (RFC 9113 §7).
  void reset(int32_t stream, uint32_t error_code);
  /// `bytes` of the stream's request body were passed on: the client may send as many more.
  void consume(int32_t stream, std::size_t bytes);
  /// Graceful shutdown: GOAWAY naming the last stream begun; open streams finish.
  void shut_down();

 private:
  struct Stream;
  class Callbacks;

  Stream* find(int32_t stream);
  const Stream* find(int32_t stream) const;

  ServerEvents& events_;
  const ServerLimits limits_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
};

}  // namespace fulcrum::http2
