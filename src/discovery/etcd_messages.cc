#include "discovery/etcd_messages.h"

#include <array>
#include <charconv>
#include <nlohmann/json.hpp>

namespace fulcrum::discovery {
namespace {

using nlohmann::json;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> decode_table() {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecode = decode_table();

/// The gateway writes int64 fields as strings; accept numbers too.
std::optional<int64_t> read_int64(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return 0;  // Zero values are left out.
  if (it->is_number_integer()) return it->get<int64_t>();
  if (!it->is_string()) return std::nullopt;
  const std::string& text = it->get_ref<const std::string&>();
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::string> read_bytes(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return std::string();
  if (!it->is_string()) return std::nullopt;
  return base64_decode(it->get_ref<const std::string&>());
}

std::optional<json> parse_object(std::string_view body) {
  json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

EtcdError bad_answer(std::string_view what, std::string_view body) {
  constexpr std::size_t kQuoted = 200;
  std::string quoted(body.substr(0, kQuoted));
  if (body.size() > kQuoted) quoted += "...";
  return EtcdError::protocol(std::string(what) + ": " + quoted);
}

EtcdError header_revision(const json& answer, int64_t& revision) {
  const auto header = answer.find("header");
  if (header == answer.end() || !header->is_object()) {
    return EtcdError::protocol("answer without a header");
  }
  const auto value = read_int64(*header, "revision");
  if (!value) return EtcdError::protocol("header with a malformed revision");
  revision = *value;
  return {};
}

std::optional<EtcdKeyValue> read_key_value(const json& kv) {
  if (!kv.is_object()) return std::nullopt;
  auto key = read_bytes(kv, "key");
  auto value = read_bytes(kv, "value");
  const auto mod_revision = read_int64(kv, "mod_revision");
  const auto lease = read_int64(kv, "lease");
  if (!key || key->empty() || !value || !mod_revision || !lease) return std::nullopt;
  return EtcdKeyValue{.key = std::move(*key),
                      .value = std::move(*value),
                      .mod_revision = *mod_revision,
                      .lease = *lease};
}

/// {"error": "text", "message": "text", "code": N} (unary answers and the watch stream), or the
/// older {"error": {"grpc_code": N, "message": "text"}} form.
EtcdError error_from(const json& answer) {
  EtcdError error{.kind = EtcdError::Kind::kServer};
  const auto nested = answer.find("error");
  const json& inner = nested != answer.end() && nested->is_object() ? *nested : answer;
  if (const auto it = inner.find("message"); it != inner.end() && it->is_string()) {
    error.message = it->get<std::string>();
  } else if (const auto e = inner.find("error"); e != inner.end() && e->is_string()) {
    error.message = e->get<std::string>();
  }
  for (const char* name : {"code", "grpc_code"}) {
    if (const auto it = inner.find(name); it != inner.end() && it->is_number_integer()) {
      error.grpc_code = it->get<int>();
    }
  }
  if (error.message.empty()) error.message = "etcd error " + std::to_string(error.grpc_code);
  return error;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += rest == 2 ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (padding == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" is not padding.
    uint32_t n = 0;
    for (std::size_t j = 0; j < 4 - padding; ++j) {
      const int8_t digit = kDecode[static_cast<unsigned char>(text[i + j])];
      if (digit < 0) return std::nullopt;
      n |= static_cast<uint32_t>(digit) << (18 - 6 * j);
    }
    out += static_cast<char>(n >> 16 & 0xff);
    if (padding < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string range_request(std::string_view prefix) {
  return json{{"key", base64_encode(prefix)},
              {"range_end", base64_encode(prefix_range_end(prefix))}}
      .dump();
}

std::string put_request(std::string_view key, std::string_view value, int64_t lease) {
  json body{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  return body.dump();
}

std::string delete_request(std::string_view key) {
  return json{{"key", base64_encode(key)}}.dump();
}

std::string write_batch_request(const std::vector<EtcdWrite>& writes, int64_t lease) {
  json operations = json::array();
  for (const EtcdWrite& write : writes) {
    if (write.remove) {
      operations.push_back({{"requestDeleteRange", {{"key", base64_encode(write.key)}}}});
      continue;
    }
    json put{{"key", base64_encode(write.key)}, {"value", base64_encode(write.value)}};
    if (lease != 0) put["lease"] = std::to_string(lease);
    operations.push_back({{"requestPut", std::move(put)}});
  }
  return json{{"success", std::move(operations)}}.dump();
}

std::string lease_grant_request(int64_t ttl_seconds) {
  return json{{"TTL", std::to_string(ttl_seconds)}}.dump();
}

std::string lease_id_request(int64_t id) { return json{{"ID", std::to_string(id)}}.dump(); }

std::string authenticate_request(std::string_view name, std::string_view password) {
  return json{{"name", name}, {"password", password}}.dump();
}

std::string watch_request(std::string_view prefix, int64_t start_revision) {
  json create{{"key", base64_encode(prefix)},
              {"range_end", base64_encode(prefix_range_end(prefix))}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", std::move(create)}}.dump();
}

EtcdError parse_error_answer(int status, std::string_view body) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    const auto answer = parse_object(body);
    if (!answer || !answer->contains("error")) {
      EtcdError error = bad_answer("HTTP status " + std::to_string(status), body);
      if (status == 401) {
        error.kind = EtcdError::Kind::kServer;
        error.grpc_code = kGrpcUnauthenticated;
      }
      return error;
    }
    EtcdError error = error_from(*answer);
    if (status == 401 && error.grpc_code == 0) error.grpc_code = kGrpcUnauthenticated;
    return error;
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("error answer: ") + e.what(), body);
  }
}

EtcdError parse_range_answer(std::string_view body, EtcdRangeResult& out) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    const auto answer = parse_object(body);
    if (!answer) return bad_answer("range: not a JSON object", body);
    if (EtcdError error = header_revision(*answer, out.revision)) return error;
    out.kvs.clear();
    const auto kvs = answer->find("kvs");
    if (kvs == answer->end()) return {};
    if (!kvs->is_array()) return bad_answer("range: kvs is not an array", body);
    for (const json& item : *kvs) {
      auto kv = read_key_value(item);
      if (!kv) return bad_answer("range: malformed key-value", body);
      out.kvs.push_back(std::move(*kv));
    }
    return {};
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("range: ") + e.what(), body);
  }
}

EtcdError parse_revision_answer(std::string_view body, int64_t& revision) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    const auto answer = parse_object(body);
    if (!answer) return bad_answer("not a JSON object", body);
    return header_revision(*answer, revision);
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("answer: ") + e.what(), body);
  }
}

EtcdError parse_lease_grant_answer(std::string_view body, EtcdLease& out) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    const auto answer = parse_object(body);
    if (!answer) return bad_answer("lease grant: not a JSON object", body);
    if (const auto error = answer->find("error");
        error != answer->end() && error->is_string() && !error->get<std::string>().empty()) {
      return error_from(*answer);
    }
    const auto id = read_int64(*answer, "ID");
    const auto ttl = read_int64(*answer, "TTL");
    if (!id || !ttl || *id == 0) return bad_answer("lease grant: no lease ID", body);
    out = EtcdLease{.id = *id, .ttl_seconds = *ttl};
    return {};
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("lease grant: ") + e.what(), body);
  }
}

bool is_invalid_token(const EtcdError& error) {
  return error.kind == EtcdError::Kind::kServer &&
         (error.grpc_code == kGrpcUnauthenticated ||
          error.message.find("invalid auth token") != std::string::npos);
}

EtcdError parse_authenticate_answer(std::string_view body, std::string& token) {
  // nlohmann throws on a field of an unexpected type.
  try {
    const auto answer = parse_object(body);
    if (!answer) return bad_answer("authenticate: not a JSON object", body);
    const auto it = answer->find("token");
    if (it == answer->end() || !it->is_string() || it->get<std::string>().empty()) {
      return bad_answer("authenticate: no token", body);
    }
    token = it->get<std::string>();
    return {};
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("authenticate: ") + e.what(), body);
  }
}

EtcdError parse_lease_keepalive_answer(std::string_view body, EtcdLease& out) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    const auto answer = parse_object(body);
    if (!answer) return bad_answer("lease keepalive: not a JSON object", body);
    if (answer->contains("error")) return error_from(*answer);
    const auto result = answer->find("result");
    if (result == answer->end() || !result->is_object()) {
      return bad_answer("lease keepalive: no result", body);
    }
    const auto id = read_int64(*result, "ID");
    const auto ttl = read_int64(*result, "TTL");
    if (!id || !ttl) return bad_answer("lease keepalive: malformed result", body);
    out = EtcdLease{.id = *id, .ttl_seconds = *ttl};
    return {};
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("lease keepalive: ") + e.what(), body);
  }
}

EtcdError parse_watch_message(std::string_view line, WatchMessage& out) {
  // nlohmann throws on a field of an unexpected type (e.g. "created": "yes").
  try {
    out = WatchMessage{};
    const auto message = parse_object(line);
    if (!message) return bad_answer("watch: not a JSON object", line);
    if (message->contains("error")) return error_from(*message);
    const auto result = message->find("result");
    if (result == message->end() || !result->is_object()) {
      return bad_answer("watch: no result", line);
    }
    out.created = result->value("created", false);
    if (result->value("canceled", false)) {
      const auto compact_revision = read_int64(*result, "compact_revision");
      if (compact_revision && *compact_revision > 0) {
        return {.kind = EtcdError::Kind::kCompacted,
                .message = "watch: revisions up to " + std::to_string(*compact_revision) +
                           " were compacted",
                .compact_revision = *compact_revision};
      }
      std::string reason = result->value("cancel_reason", std::string("no reason given"));
      return {.kind = EtcdError::Kind::kServer, .message = "watch canceled: " + reason};
    }
    const auto events = result->find("events");
    if (events == result->end()) return {};
    if (!events->is_array()) return bad_answer("watch: events is not an array", line);
    for (const json& item : *events) {
      if (!item.is_object()) return bad_answer("watch: malformed event", line);
      const auto kv = item.find("kv");
      auto key_value = kv == item.end() ? std::nullopt : read_key_value(*kv);
      if (!key_value) return bad_answer("watch: malformed event", line);
      const std::string type = item.value("type", std::string("PUT"));
      if (type != "PUT" && type != "DELETE") return bad_answer("watch: unknown event type", line);
      out.events.push_back(EtcdEvent{
          .type = type == "PUT" ? EtcdEvent::Type::kPut : EtcdEvent::Type::kDelete,
          .key = std::move(key_value->key),
          .value = std::move(key_value->value),
          .mod_revision = key_value->mod_revision,
      });
    }
    return {};
  } catch (const nlohmann::json::exception& e) {
    return bad_answer(std::string("watch: ") + e.what(), line);
  }
}

}  // namespace fulcrum::discovery
