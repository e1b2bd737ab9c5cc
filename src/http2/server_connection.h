#pragma once

// The server side of one HTTP/2 connection (clients to the proxy), without I/O: the client's
// requests come out as events, the proxy's responses go back in. nghttp2 checks the requests
// (RFC 9113 §8.2-8.3: no connection-specific fields, no CR/LF/NUL in values, valid
// pseudo-headers, content-length agreeing with DATA) before they are reported.

#include <span>
#include <string_view>

#include "http2/connection.h"

namespace fulcrum::http2 {

/// What the connection reports; each call names the stream.
class ServerEvents {
 public:
  virtual ~ServerEvents() = default;
  /// A complete request head. `end_stream`: no body follows (and on_request_end will not come).
  virtual void on_request(int32_t stream, const RequestHead& head, bool end_stream) = 0;
  /// Request body bytes; credit returns to the client only through consume().
  virtual void on_request_data(int32_t stream, std::span<const uint8_t> data) = 0;
  /// The request body ended, with trailers if the client sent any.
  virtual void on_request_end(int32_t stream, std::span<const Header> trailers) = 0;
  /// The stream is gone: answered, reset by either side (`error_code` != 0), or the connection
  /// ended. Nothing more is reported for it.
  virtual void on_stream_closed(int32_t stream, uint32_t error_code) = 0;
};

class ServerConnection : public Connection {
 public:
  ServerConnection(const Limits& limits, ServerEvents& events);

  /// The response head; `end_stream` when no body follows (a gRPC trailers-only answer carries
  /// grpc-status in `headers`). False if the stream is gone.
  bool respond(int32_t stream, int status, std::span<const Header> headers, bool end_stream);
  /// Ends the response body, with trailers (gRPC's grpc-status) when given.
  void end_response(int32_t stream, std::span<const Header> trailers = {}) {
    end_message(stream, trailers);
  }

 private:
  void head_received(Stream& stream, bool end_stream) override;
  void data_received(int32_t stream, std::span<const uint8_t> data) override {
    events_.on_request_data(stream, data);
  }
  void message_ended(int32_t stream, std::span<const Header> trailers) override {
    events_.on_request_end(stream, trailers);
  }
  void stream_closed(int32_t stream, uint32_t error_code) override {
    events_.on_stream_closed(stream, error_code);
  }

  ServerEvents& events_;
};

}  // namespace fulcrum::http2
