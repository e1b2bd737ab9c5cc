#pragma once

// The client side of one HTTP/2 connection (the proxy to a server), without I/O: many requests
// at once, up to the server's SETTINGS_MAX_CONCURRENT_STREAMS. A stream the server refused
// (REFUSED_STREAM, or above the last stream id of its GOAWAY) never reached the application,
// so the proxy may send it to another server whatever its method (RFC 9113 §8.7).

#include <span>

#include "http2/connection.h"

namespace fulcrum::http2 {

/// What the connection reports; each call names the stream.
class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  /// The final response head (interim 1xx heads are not reported). `end_stream`: no body.
  virtual void on_response(int32_t stream, int status, std::span<const Header> headers,
                           bool end_stream) = 0;
  /// Response body bytes; credit returns to the server only through consume().
  virtual void on_response_data(int32_t stream, std::span<const uint8_t> data) = 0;
  /// The response body ended, with trailers (gRPC's grpc-status) if the server sent any.
  virtual void on_response_end(int32_t stream, std::span<const Header> trailers) = 0;
  /// The stream is gone. REFUSED_STREAM: the server did not process it (also for streams above
  /// a GOAWAY's last stream id).
  virtual void on_stream_closed(int32_t stream, uint32_t error_code) = 0;
  /// The server is going away: no new streams on this connection.
  virtual void on_goaway(int32_t last_stream, uint32_t error_code) = 0;
};

class ClientConnection : public Connection {
 public:
  ClientConnection(const Limits& limits, ClientEvents& events);

  /// Starts a request; `end_stream` when no body follows. Its stream id, or -1 when this
  /// connection takes no more (a GOAWAY came, or the stream ids are used up).
  int32_t request(const RequestHead& head, bool end_stream);
  /// Ends the request body, with trailers when given.
  void end_request(int32_t stream, std::span<const Header> trailers = {}) {
    end_message(stream, trailers);
  }
  /// Streams the server accepts now beyond those open.
  uint32_t available_streams() const;
  /// No GOAWAY came: new requests may start here.
  bool accepting() const { return !going_away_; }

 private:
  void head_received(Stream& stream, bool end_stream) override;
  void data_received(int32_t stream, std::span<const uint8_t> data) override {
    events_.on_response_data(stream, data);
  }
  void message_ended(int32_t stream, std::span<const Header> trailers) override {
    events_.on_response_end(stream, trailers);
  }
  void stream_closed(int32_t stream, uint32_t error_code) override {
    events_.on_stream_closed(stream, error_code);
  }
  void goaway_received(int32_t last_stream, uint32_t error_code) override {
    going_away_ = true;
    events_.on_goaway(last_stream, error_code);
  }

  ClientEvents& events_;
  bool going_away_ = false;
};

}  // namespace fulcrum::http2
