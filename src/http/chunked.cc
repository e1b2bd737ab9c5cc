// Chunked transfer coding (RFC 9112 §7.1) as a byte-at-a-time state machine for the size lines
// and trailers, with chunk data passed through in bulk. Grammar enforced:
//   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF      (chunk-size: 1-16 HEXDIG)
//   chunk-ext  = *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
//   last-chunk = 1*"0" [ chunk-ext ] CRLF, then *( field-line CRLF ) CRLF
// Sizes with signs, "0x" prefixes or more than 16 digits, whitespace not followed by ";", bare
// CR or LF, and data not followed by exactly CRLF are errors: each is a known request-smuggling
// vector when a proxy and a server disagree on it.
#include "http/chunked.h"

#include <algorithm>

#include "http/chars.h"

namespace fulcrum::http {

namespace {

using detail::has_class;
using detail::is_ows;

constexpr std::size_t kMaxSizeDigits = 16;  // 16 hex digits fill a uint64_t.

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::Step ChunkedDecoder::feed(std::string_view input,
                                          const std::function<void(std::string_view)>* on_data) {
  Step step;
  std::size_t i = 0;
  const std::size_t n = input.size();
  while (i < n && state_ != State::kDone && state_ != State::kError) {
    if (state_ == State::kData) {
      const auto take = static_cast<std::size_t>(std::min<uint64_t>(remaining_, n - i));
      if (on_data != nullptr && *on_data) (*on_data)(input.substr(i, take));
      i += take;
      remaining_ -= take;
      payload_bytes_ += take;
      if (remaining_ == 0) state_ = State::kDataCr;
      continue;
    }
    const std::string_view reason = step_line_byte(input[i]);
    if (!reason.empty()) {
      state_ = State::kError;
      error_reason_ = reason;
      break;
    }
    ++i;
  }
  step.consumed = i;
  step.done = state_ == State::kDone;
  step.error = state_ == State::kError;
  step.error_reason = error_reason_;
  return step;
}

std::string_view ChunkedDecoder::step_line_byte(char c) {
  constexpr std::string_view kBadExt = "invalid chunk extension";
  if (state_ <= State::kSizeLf && ++line_bytes_ > kMaxSizeLineBytes) {
    return "chunk size line too long";
  }
  if (state_ >= State::kTrailerLineStart && ++trailer_bytes_ > kMaxTrailerBytes) {
    return "trailer section too large";
  }
  const bool token = has_class(c, detail::kToken);
  switch (state_) {
    case State::kSize:
      if (const int v = hex_value(c); v >= 0) {
        if (size_digits_ == kMaxSizeDigits) return "chunk size too long";
        chunk_size_ = chunk_size_ * 16 + static_cast<uint64_t>(v);
        ++size_digits_;
      } else if (size_digits_ == 0) {
        return "invalid chunk size";
      } else if (c == '\r') {
        state_ = State::kSizeLf;
      } else if (c == ';') {
        state_ = State::kExtNameStart;
      } else if (is_ows(c)) {
        state_ = State::kSizeWhitespace;
      } else {
        return "invalid chunk size";
      }
      return {};
    case State::kSizeWhitespace:
      if (c == ';')
        state_ = State::kExtNameStart;
      else if (!is_ows(c))
        return kBadExt;
      return {};
    case State::kExtNameStart:
      if (token)
        state_ = State::kExtName;
      else if (!is_ows(c))
        return kBadExt;
      return {};
    case State::kExtName:
      if (c == '=')
        state_ = State::kExtValueStart;
      else if (c == ';')
        state_ = State::kExtNameStart;
      else if (c == '\r')
        state_ = State::kSizeLf;
      else if (is_ows(c))
        state_ = State::kExtAfterName;
      else if (!token)
        return kBadExt;
      return {};
    case State::kExtAfterName:
      if (c == '=')
        state_ = State::kExtValueStart;
      else if (c == ';')
        state_ = State::kExtNameStart;
      else if (!is_ows(c))
        return kBadExt;
      return {};
    case State::kExtValueStart:
      if (c == '"')
        state_ = State::kExtQuoted;
      else if (token)
        state_ = State::kExtValueToken;
      else if (!is_ows(c))
        return kBadExt;
      return {};
    case State::kExtValueToken:
      if (c == ';')
        state_ = State::kExtNameStart;
      else if (c == '\r')
        state_ = State::kSizeLf;
      else if (is_ows(c))
        state_ = State::kExtAfterValue;
      else if (!token)
        return kBadExt;
      return {};
    case State::kExtQuoted:
      if (c == '"')
        state_ = State::kExtAfterQuoted;
      else if (c == '\\')
        state_ = State::kExtQuotedEscape;
      else if (!has_class(c, detail::kQdText))
        return kBadExt;
      return {};
    case State::kExtQuotedEscape:
      if (!has_class(c, detail::kFieldValue)) return kBadExt;
      state_ = State::kExtQuoted;
      return {};
    case State::kExtAfterQuoted:
      if (c == ';')
        state_ = State::kExtNameStart;
      else if (c == '\r')
        state_ = State::kSizeLf;
      else if (is_ows(c))
        state_ = State::kExtAfterValue;
      else
        return kBadExt;
      return {};
    case State::kExtAfterValue:
      if (c == ';')
        state_ = State::kExtNameStart;
      else if (!is_ows(c))
        return kBadExt;
      return {};
    case State::kSizeLf:
      if (c != '\n') return "bare CR in chunk size line";
      line_bytes_ = 0;
      remaining_ = chunk_size_;
      state_ = chunk_size_ == 0 ? State::kTrailerLineStart : State::kData;
      return {};
    case State::kDataCr:
      if (c != '\r') return "missing CRLF after chunk data";
      state_ = State::kDataLf;
      return {};
    case State::kDataLf:
      if (c != '\n') return "missing CRLF after chunk data";
      size_digits_ = 0;
      chunk_size_ = 0;
      state_ = State::kSize;
      return {};
    case State::kTrailerLineStart:
      if (c == '\r')
        state_ = State::kFinalLf;
      else if (token)
        state_ = State::kTrailerName;
      else if (is_ows(c))
        return "obsolete line folding in trailer";
      else
        return "invalid trailer field";
      return {};
    case State::kTrailerName:
      if (c == ':')
        state_ = State::kTrailerValue;
      else if (is_ows(c))
        return "whitespace before colon in trailer";
      else if (!token)
        return "invalid trailer field";
      return {};
    case State::kTrailerValue:
      if (c == '\r')
        state_ = State::kTrailerLf;
      else if (!has_class(c, detail::kFieldValue))
        return "invalid character in trailer value";
      return {};
    case State::kTrailerLf:
      if (c != '\n') return "bare CR in trailer";
      state_ = State::kTrailerLineStart;
      return {};
    case State::kFinalLf:
      if (c != '\n') return "bare CR at end of chunked body";
      state_ = State::kDone;
      return {};
    case State::kData:
    case State::kDone:
    case State::kError:
      break;
  }
  return "internal state error";
}

}  // namespace fulcrum::http
