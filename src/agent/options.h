#pragma once

// fulcrum-agent's settings and the parsing of the values its command line takes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/answer.h"

namespace fulcrum::agent {

enum class LoadSource : uint8_t { kLoadAverage, kCpu };

struct AgentOptions {
  std::string listen_host = "0.0.0.0";  ///< An IP address literal.
  uint16_t listen_port = 1510;          ///< Equalizer's default agent port; 0: any free port.
  AnswerFormat format = AnswerFormat::kEqualizer;
  LoadSource load_source = LoadSource::kLoadAverage;
  std::string command;  ///< Non-empty: answer the first line this /bin/sh command prints.
  std::chrono::milliseconds command_timeout{1000};
  std::string file;  ///< Non-empty: answer this file's first line while it has one.
};

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

/// "HOST:PORT", "[V6]:PORT" or ":PORT" (all IPv4 addresses). HOST must be an IP address.
/// Empty on error, with the reason in `error`.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

/// "250ms", "2s" or a bare number of milliseconds; at least 1 ms and at most one hour.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

}  // namespace fulcrum::agent
