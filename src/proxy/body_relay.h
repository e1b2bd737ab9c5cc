#pragma once

// Streaming a message body through the proxy: each piece read from one side goes out to the
// other right after it arrived, never buffered whole. Written as a composed operation rather
// than a coroutine so that relaying a body costs no coroutine frame (see HttpSession).

#include <asio/compose.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/clock.h"
#include "http/body_framing.h"
#include "net/deadline.h"
#include "net/send_all.h"

namespace fulcrum::proxy {

/// One side of a relay: its stream, the deadline guarding it and how long one read or write on
/// it may take.
struct RelayEnd {
  tls::Stream* stream;
  net::Deadline* deadline;
  core::Nanos timeout;
};

struct RelayResult {
  enum class Outcome : uint8_t { kDone, kReadFailed, kWriteFailed, kBadFraming };
  Outcome outcome = Outcome::kDone;
  uint64_t forwarded = 0;  ///< Body bytes written to the receiving side.
  /// Bytes of the last read past the end of the body (the next message's), in the buffer at
  /// [leftover_offset, leftover_offset + leftover).
  std::size_t leftover_offset = 0;
  std::size_t leftover = 0;
};

namespace detail {

struct RelayOp {
  RelayEnd from;
  RelayEnd to;
  http::BodyFraming* framing;
  std::span<char> buffer;
  RelayResult result{};
  enum class State : uint8_t { kStart, kReading, kWriting } state = State::kStart;

  template <typename Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t n = 0) {
    using Outcome = RelayResult::Outcome;
    switch (state) {
      case State::kStart:
        return read(self);
      case State::kReading: {
        from.deadline->cancel();
        if (ec) {
          if (ec == asio::error::eof && framing->end_at_close()) return self.complete(result);
          result.outcome = Outcome::kReadFailed;
          return self.complete(result);
        }
        const auto step = framing->feed(std::string_view(buffer.data(), n));
        if (step.error) {
          result.outcome = Outcome::kBadFraming;
          return self.complete(result);
        }
        result.leftover_offset = step.body;
        result.leftover = n - step.body;
        if (step.body == 0) return framing->done() ? self.complete(result) : read(self);
        result.forwarded += step.body;
        state = State::kWriting;
        to.deadline->arm(to.stream->socket(), to.timeout);
        const std::array<asio::const_buffer, 1> piece{asio::buffer(buffer.data(), step.body)};
        return net::async_send_all(*to.stream, piece, !framing->done(), std::move(self));
      }
      case State::kWriting:
        to.deadline->cancel();
        if (ec) {
          result.outcome = Outcome::kWriteFailed;
          return self.complete(result);
        }
        return framing->done() ? self.complete(result) : read(self);
    }
  }

  template <typename Self>
  void read(Self& self) {
    state = State::kReading;
    from.deadline->arm(from.stream->socket(), from.timeout);
    from.stream->async_read_some(asio::buffer(buffer.data(), framing->want(buffer.size())),
                                 std::move(self));
  }
};

}  // namespace detail

/// Copies the rest of a body from `from` to `to` through `buffer` until `framing` says it ended
/// (an until-close body ends at EOF), each piece sent with MSG_MORE while more follows. Must not
/// be started on a body that is already done. Completes with a RelayResult.
template <typename Token>
auto async_relay_body(RelayEnd from, RelayEnd to, http::BodyFraming& framing,
                      std::span<char> buffer, Token&& token) {
  return asio::async_compose<Token, void(RelayResult)>(detail::RelayOp{from, to, &framing, buffer},
                                                       token);
}

}  // namespace fulcrum::proxy
