#pragma once

// The etcd v3 JSON gateway's messages (grpc-gateway, etcd 3.4): building request bodies and
// reading response bodies. No I/O. In this JSON, keys and values are base64 and 64-bit integers
// are strings ("revision": "42"); fields at their zero value are left out (a PUT event has no
// "type", a lease that is gone answers a keepalive without "TTL").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::discovery {

std::string base64_encode(std::string_view bytes);
/// Empty on malformed input (the gateway always pads).
std::optional<std::string> base64_decode(std::string_view text);

/// The range_end that makes a range or watch cover every key starting with `prefix`: the prefix
/// with its last byte below 0xff incremented ("/a/" -> "/a0"); "\0" (all keys) if there is none.
std::string prefix_range_end(std::string_view prefix);

/// Why an etcd operation failed.
struct EtcdError {
  enum class Kind : uint8_t {
    kNone,
    kUnavailable,  ///< No endpoint could be reached in time, or the connection broke.
    kServer,       ///< etcd answered with an error (e.g. "requested lease not found").
    kCompacted,    ///< A watch's start revision was compacted away: range again.
    kProtocol,     ///< The answer was not the JSON expected.
  };
  Kind kind = Kind::kNone;
  std::string message;
  int grpc_code = 0;             ///< kServer: the gRPC status code (5: not found).
  int64_t compact_revision = 0;  ///< kCompacted: the oldest revision still available.

  explicit operator bool() const { return kind != Kind::kNone; }
  static EtcdError unavailable(std::string message) {
    return {.kind = Kind::kUnavailable, .message = std::move(message)};
  }
  static EtcdError protocol(std::string message) {
    return {.kind = Kind::kProtocol, .message = std::move(message)};
  }
};

/// gRPC status code etcd uses for a missing lease (and other missing things).
inline constexpr int kGrpcNotFound = 5;
/// gRPC status code of an invalid or expired token (HTTP 401 through the gateway).
inline constexpr int kGrpcUnauthenticated = 16;

/// etcd refused the token sent ("etcdserver: invalid auth token"): authenticating again helps.
bool is_invalid_token(const EtcdError& error);

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

struct EtcdRangeResult {
  std::vector<EtcdKeyValue> kvs;
  int64_t revision = 0;  ///< The store's revision the range was read at.
};

struct EtcdLease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;  ///< Keepalive: 0 means the lease is gone (expired or revoked).
};

struct EtcdEvent {
  enum class Type : uint8_t { kPut, kDelete };
  Type type = Type::kPut;
  std::string key;
  std::string value;  ///< Empty for deletes.
  int64_t mod_revision = 0;

  bool operator==(const EtcdEvent&) const = default;
};

/// One write of a batch: a put (with the batch's lease) or, with `remove`, a delete.
struct EtcdWrite {
  std::string key;
  std::string value;
  bool remove = false;
};

// Request bodies.
std::string range_request(std::string_view prefix);
std::string put_request(std::string_view key, std::string_view value, int64_t lease);
std::string delete_request(std::string_view key);
/// A transaction without conditions: every write applied at once, as one revision.
std::string write_batch_request(const std::vector<EtcdWrite>& writes, int64_t lease);
std::string lease_grant_request(int64_t ttl_seconds);
std::string lease_id_request(int64_t id);  ///< keepalive and revoke
std::string watch_request(std::string_view prefix, int64_t start_revision);
std::string authenticate_request(std::string_view name, std::string_view password);

/// An error answer (any status but 200): {"error": ..., "message": ..., "code": N}. A 401
/// without a code is kGrpcUnauthenticated.
EtcdError parse_error_answer(int status, std::string_view body);

// Successful answers; kProtocol errors when the JSON is not what etcd sends.
EtcdError parse_range_answer(std::string_view body, EtcdRangeResult& out);
/// put and deleterange: the header's revision.
EtcdError parse_revision_answer(std::string_view body, int64_t& revision);
EtcdError parse_lease_grant_answer(std::string_view body, EtcdLease& out);
/// POST /v3/auth/authenticate's answer: {"header": .., "token": ".."}.
EtcdError parse_authenticate_answer(std::string_view body, std::string& token);
/// The keepalive stream's single message: {"result": {"ID": .., "TTL": ..}}.
EtcdError parse_lease_keepalive_answer(std::string_view body, EtcdLease& out);

/// One message of the watch stream (one line of the gateway's response).
struct WatchMessage {
  bool created = false;
  std::vector<EtcdEvent> events;
};
/// A canceled watch (compaction, or another reason) and an error object in the stream become
/// errors.
EtcdError parse_watch_message(std::string_view line, WatchMessage& out);

}  // namespace fulcrum::discovery
