#pragma once

// Incremental validator and decoder of the chunked transfer coding (RFC 9112 §7.1). It is fed
// the body bytes in whatever pieces the socket delivers and keeps only a few integers between
// calls, so the proxy can forward each piece verbatim right after feeding it. Anything a less
// careful parser could read differently (sizes, extensions, the CRLF after data) is an error.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace fulcrum::http {

class ChunkedDecoder {
 public:
  /// Bytes of one chunk-size line (size + extensions); longer lines are an error, so that
  /// extensions cannot be used to make the proxy spin over an endless line.
  static constexpr std::size_t kMaxSizeLineBytes = 4096;
  /// Bytes of the trailer section (all trailer fields and the final CRLF).
  static constexpr std::size_t kMaxTrailerBytes = 16 * 1024;

  struct Step {
    std::size_t consumed = 0;  ///< Bytes of the input that belong to the body.
    bool done = false;         ///< The final CRLF was consumed; the rest is the next message.
    bool error = false;
    std::string_view error_reason;
  };

  /// Consumes the bytes of `input` that belong to the body and stops after its final CRLF. With
  /// `on_data`, each piece of payload is passed on (views into `input`). After an error, or once
  /// done, further calls consume nothing until reset().
  Step feed(std::string_view input, const std::function<void(std::string_view)>* on_data = nullptr);

  void reset() { *this = ChunkedDecoder(); }

  bool done() const { return state_ == State::kDone; }
  uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  enum class State : uint8_t {
    kSize,            // chunk-size digits
    kSizeWhitespace,  // BWS after the size: only ";" may follow
    kExtNameStart,    // after ";": BWS, then a token
    kExtName,
    kExtAfterName,   // BWS after a name: "=" or ";"
    kExtValueStart,  // after "=": BWS, then a token or a quoted-string
    kExtValueToken,
    kExtQuoted,
    kExtQuotedEscape,  // after "\" inside a quoted-string
    kExtAfterQuoted,   // right after the closing quote
    kExtAfterValue,    // BWS after a value: only ";" may follow
    kSizeLf,           // CR seen at the end of the size line
    kData,
    kDataCr,
    kDataLf,
    kTrailerLineStart,
    kTrailerName,
    kTrailerValue,
    kTrailerLf,
    kFinalLf,
    kDone,
    kError,
  };

  // Applies one byte of a size line or trailer; returns an error reason or "" when accepted.
  std::string_view step_line_byte(char c);

  State state_ = State::kSize;
  std::size_t size_digits_ = 0;
  std::size_t line_bytes_ = 0;
  std::size_t trailer_bytes_ = 0;
  uint64_t chunk_size_ = 0;
  uint64_t remaining_ = 0;
  uint64_t payload_bytes_ = 0;
  std::string_view error_reason_;
};

}  // namespace fulcrum::http
