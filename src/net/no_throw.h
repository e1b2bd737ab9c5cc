#pragma once

// The completion-token convention of every coroutine that does I/O in Fulcrum.

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace fulcrum::net {

/// Completion token that returns (error_code, result...) instead of throwing: expected errors
/// (EOF, reset, timeout) are data on the request path, not exceptions.
inline constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace fulcrum::net
