#include "http2/server_connection.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "http2/nv.h"
#include "http2/stream.h"

namespace fulcrum::http2 {

ServerConnection::ServerConnection(const Limits& limits, ServerEvents& events)
    : Connection(Side::kServer, limits), events_(events) {}

void ServerConnection::head_received(Stream& stream, bool end_stream) {
  // A stream that crossed our GOAWAY: the client treats it as refused and may send it elsewhere,
  // so it must not be processed here too.
  if (stream.id > goaway_last_stream_) {
    stream.refused = true;
    reset(stream.id, NGHTTP2_REFUSED_STREAM);
    return;
  }
  stream.end_head();
  const RequestHead head{stream.pseudo(":method"), stream.pseudo(":scheme"),
                         stream.pseudo(":authority"), stream.pseudo(":path"), stream.head()};
  events_.on_request(stream.id, head, end_stream);
}

bool ServerConnection::respond(int32_t stream_id, int status, std::span<const Header> headers,
                               bool end_stream) {
  Stream* stream = find(stream_id);
  if (stream == nullptr) return false;
  char status_text[4];
  std::snprintf(status_text, sizeof status_text, "%03d", std::clamp(status, 100, 999));
  const std::array<Header, 1> pseudo{{{":status", std::string_view(status_text, 3)}}};
  const std::vector<nghttp2_nv> nvs = to_nvs(pseudo, headers);
  const nghttp2_data_provider body = body_of(*stream);
  return nghttp2_submit_response(session_, stream_id, nvs.data(), nvs.size(),
                                 end_stream ? nullptr : &body) == 0;
}

}  // namespace fulcrum::http2
