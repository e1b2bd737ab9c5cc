// Lookups over parsed heads. Linear: a head has at most kMaxHeaders fields and most lookups
// stop early, which beats building an index per message.
#include "http/message.h"

#include "http/chars.h"

namespace fulcrum::http {

std::string_view find_header(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers) {
    if (detail::iequals(h.name, name)) return h.value;
  }
  return {};
}

}  // namespace fulcrum::http
