#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <asio/compose.hpp>
#include <asio/ip/tcp.hpp>
#include <span>

#include "tls/stream.h"

namespace fulcrum::net {

namespace detail {

/// The state of async_send_all: what is left to send, advanced in place after each send. The
/// array goes to the stream by value (unused entries empty), because the state itself moves
/// with each operation: a view into it would dangle.
struct SendAllOp {
  tls::Stream& stream;
  std::array<asio::const_buffer, 4> buffers;
  asio::socket_base::message_flags flags;
  bool started = false;

  template <typename Self>
  void operator()(Self& self, std::error_code ec = {}, std::size_t sent = 0) {
    if (started) {
      if (ec) return self.complete(ec);
      bool rest = false;
      for (auto& buffer : buffers) {
        const std::size_t n = std::min(sent, buffer.size());
        buffer += n;
        sent -= n;
        rest = rest || buffer.size() > 0;
      }
      if (!rest) return self.complete(ec);
    }
    started = true;
    // Plain TCP gathers every buffer into one system call, with MSG_MORE; TLS writes a record
    // per call from the first non-empty buffer and this loop goes on with the rest.
    if (stream.is_tls()) {
      stream.async_write_some(buffers, std::move(self));
    } else {
      stream.socket().async_send(buffers, flags, std::move(self));
    }
  }
};

}  // namespace detail

/// Sends every byte of `buffers` (at most 4 of them, gathered into one system call on plain TCP)
/// and completes with an error_code. With `more`, the kernel is told more data follows at once
/// (MSG_MORE, plain TCP only), so a streamed body goes out in full segments instead of one small
/// packet per read; the last write of a message must pass `more = false` or it lingers corked.
/// A composed operation, not a coroutine: its state travels with the socket operation, so
/// sending costs no frame allocation.
template <typename Token>
auto async_send_all(tls::Stream& stream, std::span<const asio::const_buffer> buffers, bool more,
                    Token&& token) {
  detail::SendAllOp op{stream, {}, more ? MSG_MORE : 0};
  std::copy_n(buffers.begin(), std::min(buffers.size(), op.buffers.size()), op.buffers.begin());
  return asio::async_compose<Token, void(std::error_code)>(std::move(op), token);
}

}  // namespace fulcrum::net
