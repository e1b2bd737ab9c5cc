// ServerConnection against a real HTTP/2 client: nghttp2's own client session, the bytes passed
// between the two in memory.

#include "http2/server_connection.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <string>
#include <vector>

namespace fulcrum::http2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

/// What the proxy side saw.
struct SeenRequest {
  std::string method, scheme, authority, path;
  Fields headers;
  std::string body;
  Fields trailers;
  bool ended = false;
  bool closed = false;
  uint32_t close_code = 0;
};

class RecordingEvents : public ServerEvents {
 public:
  std::map<int32_t, SeenRequest> requests;
  std::function<void(int32_t)> on_head;  ///< Called after a head is recorded.

  void on_request(int32_t stream, const RequestHead& head, bool end_stream) override {
    SeenRequest& r = requests[stream];
    r.method = head.method;
    r.scheme = head.scheme;
    r.authority = head.authority;
    r.path = head.path;
    for (const Header& h : head.headers) r.headers.emplace_back(h.name, h.value);
    r.ended = end_stream;
    if (on_head) on_head(stream);
  }
  void on_request_data(int32_t stream, std::span<const uint8_t> data) override {
    requests[stream].body.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void on_request_end(int32_t stream, std::span<const Header> trailers) override {
    SeenRequest& r = requests[stream];
    r.ended = true;
    for (const Header& h : trailers) r.trailers.emplace_back(h.name, h.value);
  }
  void on_stream_closed(int32_t stream, uint32_t error_code) override {
    SeenRequest& r = requests[stream];
    r.closed = true;
    r.close_code = error_code;
  }
};

/// What the client saw of one stream.
struct SeenResponse {
  Fields headers;  ///< :status included.
  std::string body;
  Fields trailers;
  bool closed = false;
  uint32_t close_code = 0;
  std::string status() const {
    for (const auto& [name, value] : headers) {
      if (name == ":status") return value;
    }
    return "";
  }
};

/// An nghttp2 client session and the responses it received.
class Client {
 public:
  Client() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(
        callbacks,
        [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t name_length,
           const uint8_t* value, size_t value_length, uint8_t, void* self) {
          auto& client = *static_cast<Client*>(self);
          SeenResponse& r = client.responses[frame->hd.stream_id];
          const bool trailer = frame->headers.cat == NGHTTP2_HCAT_HEADERS && !r.headers.empty();
          (trailer ? r.trailers : r.headers)
              .emplace_back(std::string(reinterpret_cast<const char*>(name), name_length),
                            std::string(reinterpret_cast<const char*>(value), value_length));
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        callbacks, [](nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data, size_t length,
                      void* self) {
          static_cast<Client*>(self)->responses[stream].body.append(
              reinterpret_cast<const char*>(data), length);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        callbacks, [](nghttp2_session*, int32_t stream, uint32_t code, void* self) {
          SeenResponse& r = static_cast<Client*>(self)->responses[stream];
          r.closed = true;
          r.close_code = code;
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        callbacks, [](nghttp2_session*, const nghttp2_frame* frame, void* self) {
          if (frame->hd.type == NGHTTP2_GOAWAY) {
            static_cast<Client*>(self)->goaway_last_stream = frame->goaway.last_stream_id;
          }
          return 0;
        });
    nghttp2_session_client_new(&session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Client() { nghttp2_session_del(session); }

  /// Submits a request; `body` is sent as DATA (none when empty and `end` is set).
  int32_t request(const std::string& method, const std::string& path, const Fields& extra = {},
                  const std::string& body = "", const Fields& trailers = {}) {
    Fields fields = {
        {":method", method}, {":scheme", "http"}, {":authority", "example.test"}, {":path", path}};
    fields.insert(fields.end(), extra.begin(), extra.end());
    std::vector<nghttp2_nv> nvs;
    for (auto& [name, value] : fields) {
      nvs.push_back({reinterpret_cast<uint8_t*>(name.data()),
                     reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                     NGHTTP2_NV_FLAG_NONE});
    }
    bodies_.push_back({body, 0, trailers});
    nghttp2_data_provider provider{};
    provider.source.ptr = &bodies_.back();
    provider.read_callback = [](nghttp2_session* session, int32_t stream, uint8_t* buffer,
                                size_t length, uint32_t* flags, nghttp2_data_source* source,
                                void*) -> ssize_t {
      auto& pending = *static_cast<PendingBody*>(source->ptr);
      const std::size_t n = std::min(length, pending.text.size() - pending.sent);
      std::memcpy(buffer, pending.text.data() + pending.sent, n);
      pending.sent += n;
      if (pending.sent == pending.text.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (pending.sent == pending.text.size() && !pending.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nvs;
        for (auto& [name, value] : pending.trailers) {
          nvs.push_back({reinterpret_cast<uint8_t*>(name.data()),
                         reinterpret_cast<uint8_t*>(value.data()), name.size(), value.size(),
                         NGHTTP2_NV_FLAG_NONE});
        }
        nghttp2_submit_trailer(session, stream, nvs.data(), nvs.size());
      }
      return static_cast<ssize_t>(n);
    };
    return nghttp2_submit_request(session, nullptr, nvs.data(), nvs.size(),
                                  body.empty() ? nullptr : &provider, nullptr);
  }

  SeenResponse& response(int32_t stream) { return responses[stream]; }

  nghttp2_session* session = nullptr;
  std::map<int32_t, SeenResponse> responses;
  int32_t goaway_last_stream = -1;

 private:
  struct PendingBody {
    std::string text;
    std::size_t sent = 0;
    Fields trailers;
  };
  std::list<PendingBody> bodies_;
};

/// Passes bytes both ways until neither side has anything to send.
bool pump(Client& client, ServerConnection& server) {
  for (int round = 0; round < 1000; ++round) {
    bool moved = false;
    const uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(client.session, &data)) > 0;) {
      if (!server.receive({data, static_cast<std::size_t>(n)})) return false;
      moved = true;
    }
    for (auto out = server.output(); !out.empty(); out = server.output()) {
      EXPECT_GE(nghttp2_session_mem_recv(client.session, out.data(), out.size()), 0);
      moved = true;
    }
    if (!moved) return true;
  }
  ADD_FAILURE() << "still exchanging after 1000 rounds";
  return false;
}

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(ServerConnection, AnswersAGet) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("GET", "/hello?x=1", {{"accept", "text/plain"}});
  ASSERT_TRUE(pump(client, server));
  const SeenRequest& seen = events.requests[id];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.scheme, "http");
  EXPECT_EQ(seen.authority, "example.test");
  EXPECT_EQ(seen.path, "/hello?x=1");
  EXPECT_EQ(seen.headers, (Fields{{"accept", "text/plain"}}));
  EXPECT_TRUE(seen.ended);

  const std::vector<Header> headers{{"content-type", "text/plain"}};
  ASSERT_TRUE(server.respond(id, 200, headers, false));
  server.send_data(id, bytes("hello "));
  server.send_data(id, bytes("world"));
  server.end_response(id);
  ASSERT_TRUE(pump(client, server));
  const SeenResponse& response = client.response(id);
  EXPECT_EQ(response.status(), "200");
  EXPECT_EQ(response.body, "hello world");
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(response.close_code, 0u);
  EXPECT_TRUE(events.requests[id].closed);
}

TEST(ServerConnection, BodyArrivesOnlyAsFarAsTheProxyConsumes) {
  RecordingEvents events;
  Limits limits;
  limits.stream_window_bytes = 16 * 1024;
  limits.connection_window_bytes = 64 * 1024;
  ServerConnection server(limits, events);
  Client client;
  const std::string body(100 * 1024, 'b');
  const int32_t id = client.request("POST", "/upload", {}, body);
  ASSERT_TRUE(pump(client, server));
  // Nothing consumed: the client may send no more than a window. Before it reads our SETTINGS
  // that is the protocol's default 65,535 bytes; the stream then holds no more than that.
  const std::size_t first = events.requests[id].body.size();
  EXPECT_GT(first, 0u);
  EXPECT_LE(first, 65535u);
  EXPECT_FALSE(events.requests[id].ended);
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(events.requests[id].body.size(), first) << "sent beyond the window";
  std::size_t consumed = 0;
  while (events.requests[id].body.size() < body.size()) {
    const std::size_t before = events.requests[id].body.size();
    server.consume(id, before - consumed);  // Passed on: credit goes back.
    consumed = before;
    ASSERT_TRUE(pump(client, server));
    ASSERT_GT(events.requests[id].body.size(), before) << "no credit came back";
    ASSERT_LE(events.requests[id].body.size() - before, 16u * 1024) << "beyond the stream window";
  }
  EXPECT_EQ(events.requests[id].body, body);
  EXPECT_TRUE(events.requests[id].ended);
}

TEST(ServerConnection, TrailersEndTheResponse) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("POST", "/pkg.Service/Call",
                                    {{"content-type", "application/grpc"}, {"te", "trailers"}},
                                    std::string("\0\0\0\0\0", 5));
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(events.requests[id].headers,
            (Fields{{"content-type", "application/grpc"}, {"te", "trailers"}}));
  const std::vector<Header> head{{"content-type", "application/grpc"}};
  const std::vector<Header> trailers{{"grpc-status", "0"}, {"grpc-message", "ok"}};
  server.respond(id, 200, head, false);
  server.send_data(id, bytes(std::string_view("\0\0\0\0\0", 5)));
  server.end_response(id, trailers);
  ASSERT_TRUE(pump(client, server));
  const SeenResponse& response = client.response(id);
  EXPECT_EQ(response.status(), "200");
  EXPECT_EQ(response.body.size(), 5u);
  EXPECT_EQ(response.trailers, (Fields{{"grpc-status", "0"}, {"grpc-message", "ok"}}));
  EXPECT_TRUE(response.closed);
}

TEST(ServerConnection, TrailersOnlyResponse) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("POST", "/pkg.Service/Call", {}, "x");
  ASSERT_TRUE(pump(client, server));
  const std::vector<Header> fields{
      {"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "no server"}};
  server.respond(id, 200, fields, true);
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(client.response(id).status(), "200");
  EXPECT_EQ(client.response(id).headers.size(), 4u);
  EXPECT_TRUE(client.response(id).closed);
}

TEST(ServerConnection, RequestTrailersReachTheProxy) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("POST", "/t", {}, "abc", {{"checksum", "42"}});
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(events.requests[id].body, "abc");
  EXPECT_TRUE(events.requests[id].ended);
  EXPECT_EQ(events.requests[id].trailers, (Fields{{"checksum", "42"}}));
  EXPECT_TRUE(events.requests[id].headers.empty());
}

TEST(ServerConnection, OversizedHeaderListResetsOnlyItsStream) {
  RecordingEvents events;
  Limits limits;
  limits.max_header_list_bytes = 4096;
  ServerConnection server(limits, events);
  Client client;
  const int32_t big = client.request("GET", "/big", {{"x-big", std::string(8000, 'a')}});
  const int32_t small = client.request("GET", "/small");
  ASSERT_TRUE(pump(client, server));
  EXPECT_TRUE(events.requests[big].method.empty()) << "an oversized head reached the proxy";
  EXPECT_TRUE(client.response(big).closed);
  EXPECT_NE(client.response(big).close_code, 0u);
  EXPECT_EQ(events.requests[small].path, "/small");
  server.respond(small, 204, {}, true);
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(client.response(small).status(), "204");
}

TEST(ServerConnection, ConnectionSpecificFieldsAreRefused) {
  // RFC 9113 §8.2.2: such a field in a request is malformed; it must not reach HTTP/1.1.
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("GET", "/", {{"connection", "close"}});
  const int32_t newline = client.request("GET", "/", {{"x-a", "1\r\nx-b: 2"}});
  ASSERT_TRUE(pump(client, server));
  for (const int32_t stream : {id, newline}) {
    EXPECT_TRUE(events.requests[stream].method.empty()) << stream;
    EXPECT_TRUE(client.response(stream).closed) << stream;
    EXPECT_EQ(client.response(stream).close_code, uint32_t{NGHTTP2_PROTOCOL_ERROR}) << stream;
  }
}

TEST(ServerConnection, ContentLengthMustAgreeWithData) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("POST", "/", {{"content-length", "10"}}, "short");
  ASSERT_TRUE(pump(client, server));
  EXPECT_FALSE(events.requests[id].ended);
  EXPECT_TRUE(events.requests[id].closed);
  EXPECT_EQ(client.response(id).close_code, uint32_t{NGHTTP2_PROTOCOL_ERROR});
}

TEST(ServerConnection, ProxyResetReachesTheClient) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("GET", "/");
  ASSERT_TRUE(pump(client, server));
  server.reset(id, NGHTTP2_REFUSED_STREAM);
  ASSERT_TRUE(pump(client, server));
  EXPECT_TRUE(client.response(id).closed);
  EXPECT_EQ(client.response(id).close_code, uint32_t{NGHTTP2_REFUSED_STREAM});
  EXPECT_TRUE(events.requests[id].closed);
}

TEST(ServerConnection, ShutDownLetsOpenStreamsFinish) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("GET", "/slow");
  ASSERT_TRUE(pump(client, server));
  server.shut_down();
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(client.goaway_last_stream, id);
  server.respond(id, 200, {}, false);
  server.send_data(id, bytes("late"));
  server.end_response(id);
  ASSERT_TRUE(pump(client, server));
  EXPECT_EQ(client.response(id).body, "late");
  EXPECT_TRUE(client.response(id).closed);
}

TEST(ServerConnection, NotHttp2IsAConnectionError) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  EXPECT_FALSE(server.receive(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
}

TEST(ServerConnection, QueuedBytesShrinkAsFramesGoOut) {
  RecordingEvents events;
  ServerConnection server(Limits{}, events);
  Client client;
  const int32_t id = client.request("GET", "/");
  ASSERT_TRUE(pump(client, server));
  server.respond(id, 200, {}, false);
  const std::string chunk(200 * 1024, 'r');  // Beyond the client's 64 KiB default window.
  server.send_data(id, bytes(chunk));
  EXPECT_EQ(server.queued_bytes(id), chunk.size());
  ASSERT_TRUE(pump(client, server));
  EXPECT_LT(server.queued_bytes(id), chunk.size());
  EXPECT_EQ(client.response(id).body.size() + server.queued_bytes(id), chunk.size());
}

}  // namespace
}  // namespace fulcrum::http2
