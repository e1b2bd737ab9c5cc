#pragma once

// Fields as nghttp2 takes them. Internal to src/http2.

#include <nghttp2/nghttp2.h>

#include <span>
#include <string_view>
#include <vector>

#include "http2/connection.h"

namespace fulcrum::http2 {

/// nghttp2 copies names and values when a frame is submitted, so views are enough.
inline nghttp2_nv to_nv(std::string_view name, std::string_view value) {
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

/// `pseudo` first (pseudo-headers precede regular fields), then `fields`.
inline std::vector<nghttp2_nv> to_nvs(std::span<const Header> pseudo,
                                      std::span<const Header> fields) {
  std::vector<nghttp2_nv> nvs;
  nvs.reserve(pseudo.size() + fields.size());
  for (const Header& h : pseudo) nvs.push_back(to_nv(h.name, h.value));
  for (const Header& h : fields) nvs.push_back(to_nv(h.name, h.value));
  return nvs;
}

}  // namespace fulcrum::http2
