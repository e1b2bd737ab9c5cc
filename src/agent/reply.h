#pragma once

// What fulcrum-agent says on the wire, for a measured load or for a line an operator's file or
// command produced. Pure functions, no I/O.

#include <string>
#include <string_view>

#include "agent/answer.h"

namespace fulcrum::agent {

/// A measured load (-1..100) as an answer line, without the line end. Equalizer: the integer.
/// HAProxy: -1 is "drain" (no new requests, as Equalizer's -1); otherwise "up ready W%" with
/// W = 100 - load, at least 1 %, so that load alone slows a server but never drains it. "up" and
/// "ready" are repeated every time because HAProxy keeps an agent's "down" or "drain" until the
/// agent says otherwise.
std::string reply_for_load(int load, AnswerFormat format);

enum class LineKind : uint8_t {
  kBlank,    ///< Nothing but blanks on the first line.
  kInvalid,  ///< Not an answer; `problem` says why. Better to say nothing than nonsense.
  kAnswer,   ///< `text` is the answer line to send.
};

struct LineReply {
  LineKind kind = LineKind::kBlank;
  std::string text;
  std::string problem;
};

/// The first line of `content` (a file's or a command's output) as an answer line. A valid
/// answer is sent as written (trimmed), except that in the HAProxy format an Equalizer integer
/// is translated with reply_for_load so that HAProxy understands it.
LineReply reply_for_line(std::string_view content, AnswerFormat format);

}  // namespace fulcrum::agent
