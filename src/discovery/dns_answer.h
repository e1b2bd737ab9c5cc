#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "discovery/srv_mapping.h"

namespace fulcrum::discovery {

/// The SRV records of a DNS response (c-ares 1.18's ares_parse_srv_reply drops the TTLs, which
/// the refresh needs). nullopt with `error` set for a malformed message.
std::optional<std::vector<SrvRecord>> parse_srv_answer(std::span<const unsigned char> message,
                                                       std::string* error);

}  // namespace fulcrum::discovery
