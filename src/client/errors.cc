#include "client/errors.h"

namespace fulcrum::client {

namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "fulcrum.client"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::connection_lost:
        return "connection lost: every connection attempt failed";
      case errc::no_server_available:
        return "no server available";
    }
    return "unknown fulcrum.client error";
  }
};

std::string describe(const ConnectionLostInfo& info) {
  std::string text = "fulcrum: connection lost: " + std::to_string(info.attempts) +
                     (info.attempts == 1 ? " attempt failed" : " attempts failed");
  if (!info.last_address.empty()) text += ", the last to " + info.last_address;
  if (info.last_error) text += ": " + info.last_error.message();
  return text;
}

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

ConnectionLost::ConnectionLost(ConnectionLostInfo info)
    : std::system_error(make_error_code(errc::connection_lost)),
      info_(std::move(info)),
      message_(describe(info_)) {}

}  // namespace fulcrum::client
