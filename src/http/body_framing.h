#pragma once

// Where a message body ends (RFC 9112 §6.3), fed the bytes as they arrive in whatever pieces the
// socket delivers. The one framing decoder for every reader of bodies: the proxy relays a body
// verbatim (chunk framing included) and only needs to know how many bytes are body; the health
// checks and the etcd client also take the payload, without the chunk framing, through a sink.
// Defined here in full so that the proxy's read loop inlines it. No I/O; nothing allocates.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "http/chunked.h"
#include "http/message.h"

namespace fulcrum::http {

class BodyFraming {
 public:
  /// Receives the payload piece by piece: the data of each chunk (a chunk split across reads
  /// comes in several pieces), never empty, as views into the bytes fed.
  using PayloadSink = std::function<void(std::string_view)>;

  struct Step {
    std::size_t body = 0;  ///< Leading bytes of the input that belong to the body.
    bool done = false;     ///< The body ended within them: any rest is the next message's.
    bool error = false;    ///< Malformed chunked coding; error_reason names the rule broken.
    std::string_view error_reason;
  };

  /// A new body: none, `content_length` bytes, chunked, or until the sender closes.
  void start(Framing framing, uint64_t content_length) {
    framing_ = framing;
    remaining_ = framing == Framing::kContentLength ? content_length : 0;
    chunks_.reset();
    done_ = framing == Framing::kNone || (framing == Framing::kContentLength && remaining_ == 0);
  }

  /// Accounts for bytes that arrived; bytes past the end of the body are not consumed. Once done,
  /// or after an error, nothing more is. With `on_payload`, the payload among them is passed on.
  Step feed(std::string_view bytes, const PayloadSink* on_payload = nullptr) {
    Step step;
    switch (framing_) {
      case Framing::kNone:
        break;
      case Framing::kContentLength:
        step.body = static_cast<std::size_t>(std::min<uint64_t>(remaining_, bytes.size()));
        remaining_ -= step.body;
        done_ = remaining_ == 0;
        break;
      case Framing::kChunked: {
        const ChunkedDecoder::Step chunk_step = chunks_.feed(bytes, on_payload);
        step = {chunk_step.consumed, chunk_step.done, chunk_step.error, chunk_step.error_reason};
        done_ = chunk_step.done;
        return step;  // The decoder passed the payload on itself.
      }
      case Framing::kUntilClose:
        step.body = done_ ? 0 : bytes.size();
        break;
    }
    step.done = done_;
    if (on_payload != nullptr && step.body > 0) (*on_payload)(bytes.substr(0, step.body));
    return step;
  }

  /// The sender closed: the end of an until-close body (true), a truncation of any other.
  bool end_at_close() {
    if (framing_ != Framing::kUntilClose) return false;
    done_ = true;
    return true;
  }

  /// How many bytes to read next at most: never past the end of a Content-Length body, so the
  /// next message's bytes stay in the socket.
  std::size_t want(std::size_t capacity) const {
    return framing_ == Framing::kContentLength
               ? static_cast<std::size_t>(std::min<uint64_t>(remaining_, capacity))
               : capacity;
  }

  bool done() const { return done_; }
  Framing framing() const { return framing_; }

 private:
  Framing framing_ = Framing::kNone;
  uint64_t remaining_ = 0;
  ChunkedDecoder chunks_;
  bool done_ = true;
};

}  // namespace fulcrum::http
