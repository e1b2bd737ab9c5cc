#include "tls/openssl.h"

#include <openssl/err.h>

namespace fulcrum::tls {

std::string take_openssl_errors(std::string_view fallback) {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  while (const unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) {
    const char* reason = ERR_reason_error_string(code);
    std::string piece = reason != nullptr ? reason : "error " + std::to_string(code);
    if ((flags & ERR_TXT_STRING) != 0 && data != nullptr && *data != '\0') {
      piece += " (";
      piece += data;
      piece += ")";
    }
    if (out.find(piece) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += piece;
  }
  return out.empty() ? std::string(fallback) : out;
}

std::vector<unsigned char> alpn_wire_format(const std::vector<std::string>& protocols) {
  std::vector<unsigned char> wire;
  for (const std::string& protocol : protocols) {
    wire.push_back(static_cast<unsigned char>(protocol.size()));
    wire.insert(wire.end(), protocol.begin(), protocol.end());
  }
  return wire;
}

}  // namespace fulcrum::tls
