#pragma once

// What both sides of an HTTP/2 connection share, without I/O: nghttp2's session, the bytes in
// and out, each stream's received fields and queued outgoing body, flow-control credit returned
// only as the proxy passes bytes on (so a stream never holds more than its window), trailers,
// resets and GOAWAY. ServerConnection and ClientConnection add what differs: who opens streams
// and what a head means.

#include <climits>
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

namespace detail {
struct StreamState;  // http2/stream.h
}  // namespace detail

struct Header {
  std::string_view name;  ///< Lower-case, as HTTP/2 requires.
  std::string_view value;
};

/// A request head. Views valid until the next event of the stream (received) or the call
/// returns (sent).
struct RequestHead {
  std::string_view method;
  std::string_view scheme;
  std::string_view authority;
  std::string_view path;
  std::span<const Header> headers;  ///< Regular fields, in order.
};

/// Every default is documented in docs/http2.md.
struct Limits {
  /// Streams the peer may open at once (a server's limit; a client announces 0: servers push
  /// nothing).
  uint32_t max_concurrent_streams = 100;
  /// The decoded header list of one head (names + values + 32 per field, RFC 9113 §6.5.2).
  uint32_t max_header_list_bytes = 64 * 1024;
  uint32_t header_table_bytes = 4096;  ///< HPACK dynamic table the peer may use.
  uint32_t stream_window_bytes = 256 * 1024;
  uint32_t connection_window_bytes = 1024 * 1024;
};

class Connection {
 public:
  virtual ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Feeds bytes read from the peer. False on a connection error (a GOAWAY is queued when the
  /// peer spoke HTTP/2 at all: send the output, then close).
  bool receive(std::span<const uint8_t> bytes);
  /// The next bytes to send, empty when there are none. Valid until the next call of any method.
  std::span<const uint8_t> output();
  /// Neither side has anything more to say: close the connection.
  bool finished() const;

  /// Queues body bytes of the message this side sends on `stream` (copied).
  void send_data(int32_t stream, std::span<const uint8_t> data);
  /// Body bytes queued on `stream` and not yet framed: the proxy stops reading the other side
  /// beyond a bound.
  std::size_t queued_bytes(int32_t stream) const;
  /// RST_STREAM with `error_code` (RFC 9113 §7).
  void reset(int32_t stream, uint32_t error_code);
  /// `bytes` of the body received on `stream` were passed on: the peer may send as many more.
  void consume(int32_t stream, std::size_t bytes);
  /// Graceful shutdown: GOAWAY naming the last stream the peer began; open streams finish.
  void shut_down();
  std::size_t open_streams() const { return streams_.size(); }

 protected:
  using Stream = detail::StreamState;
  enum class Side { kServer, kClient };

  Connection(Side side, const Limits& limits);

  /// A complete head (the request, a response, interim or final) arrived on `stream`.
  virtual void head_received(Stream& stream, bool end_stream) = 0;
  virtual void data_received(int32_t stream, std::span<const uint8_t> data) = 0;
  /// The peer's message ended, with trailers if it sent any.
  virtual void message_ended(int32_t stream, std::span<const Header> trailers) = 0;
  virtual void stream_closed(int32_t stream, uint32_t error_code) = 0;
  virtual void goaway_received(int32_t /*last_stream*/, uint32_t /*error_code*/) {}

  Stream* find(int32_t stream);
  const Stream* find(int32_t stream) const;
  /// Keeps `stream` under `id`: one the peer opened (server) or this side did (client).
  Stream& add_stream(std::unique_ptr<Stream> stream, int32_t id);
  /// Ends the body this side sends on `stream`, with trailers when given.
  void end_message(int32_t stream, std::span<const Header> trailers);

  nghttp2_session* session_ = nullptr;
  /// After shut_down(): the last stream the GOAWAY promised to process.
  int32_t goaway_last_stream_ = INT32_MAX;

 private:
  class Callbacks;

  const Side side_;
  const Limits limits_;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
};

}  // namespace fulcrum::http2
