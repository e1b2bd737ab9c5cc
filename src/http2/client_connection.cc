#include "http2/client_connection.h"

#include <array>
#include <charconv>

#include "http2/nv.h"
#include "http2/stream.h"

namespace fulcrum::http2 {

ClientConnection::ClientConnection(const Limits& limits, ClientEvents& events)
    : Connection(Side::kClient, limits), events_(events) {}

int32_t ClientConnection::request(const RequestHead& head, bool end_stream) {
  if (going_away_) return -1;
  std::array<Header, 4> pseudo;
  std::size_t n = 0;
  pseudo[n++] = {":method", head.method};
  pseudo[n++] = {":scheme", head.scheme};
  if (!head.authority.empty()) pseudo[n++] = {":authority", head.authority};
  pseudo[n++] = {":path", head.path};
  const std::vector<nghttp2_nv> nvs = to_nvs(std::span(pseudo.data(), n), head.headers);
  auto stream = std::make_unique<Stream>();
  const nghttp2_data_provider body = body_of(*stream);
  const int32_t id = nghttp2_submit_request(session_, nullptr, nvs.data(), nvs.size(),
                                            end_stream ? nullptr : &body, nullptr);
  if (id < 0) return -1;
  add_stream(std::move(stream), id);
  return id;
}

uint32_t ClientConnection::available_streams() const {
  const uint32_t limit =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  const std::size_t open = open_streams();
  return open >= limit ? 0 : static_cast<uint32_t>(limit - open);
}

void ClientConnection::head_received(Stream& stream, bool end_stream) {
  const std::string_view text = stream.pseudo(":status");
  int status = 0;
  std::from_chars(text.data(), text.data() + text.size(), status);
  if (status < 200) {
    stream.drop_head();  // Interim (100 Continue, 103 Early Hints): the final head follows.
    return;
  }
  stream.end_head();
  events_.on_response(stream.id, status, stream.head(), end_stream);
}

}  // namespace fulcrum::http2
