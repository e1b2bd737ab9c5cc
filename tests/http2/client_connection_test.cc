// ClientConnection against ServerConnection (itself tested against nghttp2's own client), the
// bytes passed between the two in memory.

#include "http2/client_connection.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "http2/server_connection.h"

namespace fulcrum::http2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

Fields copy(std::span<const Header> headers) {
  Fields fields;
  for (const Header& h : headers) fields.emplace_back(h.name, h.value);
  return fields;
}

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

struct ServerSide : ServerEvents {
  struct Seen {
    std::string method, path, body;
    Fields headers, trailers;
    bool ended = false;
  };
  std::map<int32_t, Seen> requests;
  void on_request(int32_t stream, const RequestHead& head, bool end_stream) override {
    requests[stream] = {
        std::string(head.method), std::string(head.path), "", copy(head.headers), {}, end_stream};
  }
  void on_request_data(int32_t stream, std::span<const uint8_t> data) override {
    requests[stream].body.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void on_request_end(int32_t stream, std::span<const Header> trailers) override {
    requests[stream].ended = true;
    requests[stream].trailers = copy(trailers);
  }
  void on_stream_closed(int32_t stream, uint32_t) override { closed.push_back(stream); }
  std::vector<int32_t> closed;
};

struct ClientSide : ClientEvents {
  struct Seen {
    int status = 0;
    Fields headers, trailers;
    std::string body;
    bool ended = false, closed = false;
    uint32_t close_code = 0;
  };
  std::map<int32_t, Seen> responses;
  int32_t goaway_last = -1;
  void on_response(int32_t stream, int status, std::span<const Header> headers,
                   bool end_stream) override {
    responses[stream].status = status;
    responses[stream].headers = copy(headers);
    responses[stream].ended = end_stream;
  }
  void on_response_data(int32_t stream, std::span<const uint8_t> data) override {
    responses[stream].body.append(reinterpret_cast<const char*>(data.data()), data.size());
  }
  void on_response_end(int32_t stream, std::span<const Header> trailers) override {
    responses[stream].ended = true;
    responses[stream].trailers = copy(trailers);
  }
  void on_stream_closed(int32_t stream, uint32_t error_code) override {
    responses[stream].closed = true;
    responses[stream].close_code = error_code;
  }
  void on_goaway(int32_t last_stream, uint32_t) override { goaway_last = last_stream; }
};

class ClientConnectionTest : public ::testing::Test {
 protected:
  explicit ClientConnectionTest(Limits server_limits = Limits{})
      : server_(server_limits, server_side_), client_(Limits{}, client_side_) {}

  /// Passes bytes both ways until neither side has anything to send.
  void pump() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto out = client_.output(); !out.empty(); out = client_.output()) {
        ASSERT_TRUE(server_.receive(out));
        moved = true;
      }
      for (auto out = server_.output(); !out.empty(); out = server_.output()) {
        ASSERT_TRUE(client_.receive(out));
        moved = true;
      }
      if (!moved) return;
    }
    FAIL() << "still exchanging after 1000 rounds";
  }

  int32_t get(std::string_view path, std::span<const Header> headers = {}) {
    return client_.request({"GET", "http", "backend.test", path, headers}, true);
  }

  ServerSide server_side_;
  ClientSide client_side_;
  ServerConnection server_;
  ClientConnection client_;
};

TEST_F(ClientConnectionTest, RequestAndResponse) {
  const std::vector<Header> fields{{"accept", "*/*"}};
  const int32_t id = get("/x", fields);
  ASSERT_GT(id, 0);
  pump();
  ASSERT_EQ(server_side_.requests.count(id), 1u);
  EXPECT_EQ(server_side_.requests[id].method, "GET");
  EXPECT_EQ(server_side_.requests[id].path, "/x");
  EXPECT_EQ(server_side_.requests[id].headers, (Fields{{"accept", "*/*"}}));
  const std::vector<Header> head{{"content-type", "text/plain"}};
  server_.respond(id, 200, head, false);
  server_.send_data(id, bytes("body"));
  server_.end_response(id);
  pump();
  const ClientSide::Seen& response = client_side_.responses[id];
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers, (Fields{{"content-type", "text/plain"}}));
  EXPECT_EQ(response.body, "body");
  EXPECT_TRUE(response.ended);
  EXPECT_TRUE(response.closed);
  EXPECT_EQ(response.close_code, 0u);
}

TEST_F(ClientConnectionTest, StreamedBodiesAndTrailersBothWays) {
  const std::vector<Header> grpc{{"content-type", "application/grpc"}, {"te", "trailers"}};
  const int32_t id = client_.request({"POST", "http", "backend.test", "/svc/Call", grpc}, false);
  client_.send_data(id, bytes("part1-"));
  pump();
  client_.send_data(id, bytes("part2"));
  const std::vector<Header> request_trailers{{"x-checksum", "7"}};
  client_.end_request(id, request_trailers);
  pump();
  EXPECT_EQ(server_side_.requests[id].body, "part1-part2");
  EXPECT_TRUE(server_side_.requests[id].ended);
  EXPECT_EQ(server_side_.requests[id].trailers, (Fields{{"x-checksum", "7"}}));
  const std::vector<Header> head{{"content-type", "application/grpc"}};
  const std::vector<Header> trailers{{"grpc-status", "0"}};
  server_.respond(id, 200, head, false);
  server_.send_data(id, bytes("reply"));
  server_.end_response(id, trailers);
  pump();
  EXPECT_EQ(client_side_.responses[id].body, "reply");
  EXPECT_EQ(client_side_.responses[id].trailers, (Fields{{"grpc-status", "0"}}));
}

TEST_F(ClientConnectionTest, RefusedStreamIsReportedAsSuch) {
  const int32_t id = get("/");
  pump();
  server_.reset(id, NGHTTP2_REFUSED_STREAM);
  pump();
  EXPECT_TRUE(client_side_.responses[id].closed);
  EXPECT_EQ(client_side_.responses[id].close_code, uint32_t{NGHTTP2_REFUSED_STREAM});
  EXPECT_EQ(client_side_.responses[id].status, 0);
}

TEST_F(ClientConnectionTest, StreamsAboveTheGoawayAreRefusedAndNoNewOnesStart) {
  const int32_t first = get("/first");
  pump();
  server_.shut_down();                // Names `first` as the last stream it processes.
  const int32_t late = get("/late");  // Crosses the GOAWAY on the wire.
  pump();
  EXPECT_EQ(client_side_.goaway_last, first);
  EXPECT_FALSE(client_.accepting());
  EXPECT_EQ(server_side_.requests.count(late), 0u) << "the server processed a late stream";
  EXPECT_EQ(std::count(server_side_.closed.begin(), server_side_.closed.end(), late), 0)
      << "a stream never reported was reported closed";
  EXPECT_TRUE(client_side_.responses[late].closed);
  EXPECT_EQ(client_side_.responses[late].close_code, uint32_t{NGHTTP2_REFUSED_STREAM});
  EXPECT_EQ(get("/after"), -1);
  // The stream before the GOAWAY still completes.
  server_.respond(first, 204, {}, true);
  pump();
  EXPECT_EQ(client_side_.responses[first].status, 204);
}

class LimitedServerTest : public ClientConnectionTest {
 protected:
  static Limits two_streams() {
    Limits limits;
    limits.max_concurrent_streams = 2;
    return limits;
  }
  LimitedServerTest() : ClientConnectionTest(two_streams()) {}
};

TEST_F(LimitedServerTest, AvailableStreamsFollowTheServersSetting) {
  pump();  // SETTINGS both ways.
  EXPECT_EQ(client_.available_streams(), 2u);
  const int32_t a = get("/a");
  EXPECT_EQ(client_.available_streams(), 1u);
  get("/b");
  EXPECT_EQ(client_.available_streams(), 0u);
  pump();
  server_.respond(a, 200, {}, true);
  pump();
  EXPECT_EQ(client_.available_streams(), 1u);
}

}  // namespace
}  // namespace fulcrum::http2
