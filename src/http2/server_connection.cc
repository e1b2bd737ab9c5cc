#include "http2/server_connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

namespace fulcrum::http2 {

/// A field as stored: offsets into the stream's field bytes, which grow as fields arrive.
struct StoredField {
  uint32_t offset = 0;
  uint32_t name_length = 0;
  uint32_t value_length = 0;
};

struct ServerConnection::Stream {
  int32_t id = 0;
  // The request head, then its trailers.
  std::string field_bytes;
  std::vector<StoredField> fields;
  std::vector<Header> views;
  std::size_t field_list_size = 0;  ///< As RFC 9113 §6.5.2 counts it.
  bool head_done = false;
  std::size_t head_fields = 0;  ///< Fields of the head; trailers follow.
  std::size_t unconsumed = 0;   ///< Request body bytes reported and not yet consumed.
  // The response body: queued bytes, how far nghttp2 has taken them, and how it ends.
  std::string out;
  std::size_t out_taken = 0;
  bool out_ended = false;
  std::string trailer_bytes;
  std::vector<StoredField> trailers;

  void add_field(std::string_view name, std::string_view value) {
    fields.push_back({static_cast<uint32_t>(field_bytes.size()), static_cast<uint32_t>(name.size()),
                      static_cast<uint32_t>(value.size())});
    field_bytes.append(name).append(value);
  }
  /// Views of the fields from `first` on, pseudo-headers left out.
  std::span<const Header> regular_fields(std::size_t first) {
    views.clear();
    for (std::size_t i = first; i < fields.size(); ++i) {
      const Header h = view(fields[i], field_bytes);
      if (!h.name.starts_with(':')) views.push_back(h);
    }
    return views;
  }
  std::string_view pseudo(std::string_view name) const {
    for (const StoredField& f : fields) {
      const Header h = view(f, field_bytes);
      if (h.name == name) return h.value;
    }
    return {};
  }
  static Header view(const StoredField& f, const std::string& bytes) {
    const std::string_view all(bytes);
    return {all.substr(f.offset, f.name_length),
            all.substr(f.offset + f.name_length, f.value_length)};
  }
};

namespace {

nghttp2_nv to_nv(std::string_view name, std::string_view value) {
  // nghttp2 copies names and values when a frame is submitted.
  return {reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(), value.size(),
          NGHTTP2_NV_FLAG_NONE};
}

std::vector<nghttp2_nv> to_nvs(std::span<const Header> headers) {
  std::vector<nghttp2_nv> nvs;
  nvs.reserve(headers.size() + 1);
  for (const Header& h : headers) nvs.push_back(to_nv(h.name, h.value));
  return nvs;
}

}  // namespace

/// nghttp2's callbacks, each handing the event to the connection named by `user_data`.
class ServerConnection::Callbacks {
 public:
  static ServerConnection& self(void* user_data) {
    return *static_cast<ServerConnection*>(user_data);
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerConnection& c = self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto stream = std::make_unique<Stream>();
    stream->id = frame->hd.stream_id;
    c.streams_[stream->id] = std::move(stream);
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void* user_data) {
    ServerConnection& c = self(user_data);
    Stream* stream = c.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    stream->field_list_size += name_length + value_length + 32;
    // Over the limit: the stream is reset (RFC 9113 §6.5.2 lets a server refuse it).
    if (stream->field_list_size > c.limits_.max_header_list_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    stream->add_field({reinterpret_cast<const char*>(name), name_length},
                      {reinterpret_cast<const char*>(value), value_length});
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerConnection& c = self(user_data);
    Stream* stream = c.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !stream->head_done) {
      stream->head_done = true;
      stream->head_fields = stream->fields.size();
      const RequestHead head{stream->pseudo(":method"), stream->pseudo(":scheme"),
                             stream->pseudo(":authority"), stream->pseudo(":path"),
                             stream->regular_fields(0)};
      c.events_.on_request(stream->id, head, end_stream);
    } else if (frame->hd.type == NGHTTP2_HEADERS) {
      // Trailers: stored after the head's fields.
      c.events_.on_request_end(stream->id, stream->regular_fields(stream->head_fields));
    } else if (frame->hd.type == NGHTTP2_DATA && end_stream) {
      c.events_.on_request_end(stream->id, {});
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    ServerConnection& c = self(user_data);
    Stream* stream = c.find(stream_id);
    if (stream == nullptr) {
      nghttp2_session_consume(session, stream_id, length);  // Nobody will: credit it now.
      return 0;
    }
    stream->unconsumed += length;
    c.events_.on_request_data(stream_id, {data, length});
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                             void* user_data) {
    ServerConnection& c = self(user_data);
    const auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) return 0;
    // Body bytes the proxy will no longer take still count against the connection's window.
    if (it->second->unconsumed != 0) {
      nghttp2_session_consume_connection(session, it->second->unconsumed);
    }
    c.streams_.erase(it);
    c.events_.on_stream_closed(stream_id, error_code);
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                           size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
    Stream& stream = *static_cast<Stream*>(source->ptr);
    const std::size_t n = std::min(length, stream.out.size() - stream.out_taken);
    std::memcpy(buffer, stream.out.data() + stream.out_taken, n);
    stream.out_taken += n;
    if (stream.out_taken == stream.out.size()) {
      stream.out.clear();
      stream.out_taken = 0;
    }
    if (stream.out.empty() && stream.out_ended) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!stream.trailers.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        std::vector<nghttp2_nv> nvs;
        for (const StoredField& f : stream.trailers) {
          const Header h = Stream::view(f, stream.trailer_bytes);
          nvs.push_back(to_nv(h.name, h.value));
        }
        if (nghttp2_submit_trailer(session, stream_id, nvs.data(), nvs.size()) != 0) {
          return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        }
      }
      return static_cast<ssize_t>(n);
    }
    if (n == 0) return NGHTTP2_ERR_DEFERRED;
    return static_cast<ssize_t>(n);
  }
};

ServerConnection::ServerConnection(const ServerLimits& limits, ServerEvents& events)
    : events_(events), limits_(limits) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::on_stream_close);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Credit returns as the proxy passes request bytes on (consume), not as they arrive.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_deflate_dynamic_table_size(option, 4096);
  nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const std::array<nghttp2_settings_entry, 4> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_list_bytes},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits.header_table_bytes},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits.connection_window_bytes));
}

ServerConnection::~ServerConnection() { nghttp2_session_del(session_); }

ServerConnection::Stream* ServerConnection::find(int32_t stream) {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

const ServerConnection::Stream* ServerConnection::find(int32_t stream) const {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

bool ServerConnection::receive(std::span<const uint8_t> bytes) {
  const ssize_t read = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  if (read >= 0) return true;
  // The client broke the protocol (nghttp2 has queued the GOAWAY for what it detects); anything
  // else ends the connection with a PROTOCOL_ERROR GOAWAY of our own.
  if (read != NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  }
  return false;
}

std::span<const uint8_t> ServerConnection::output() {
  const uint8_t* data = nullptr;
  const ssize_t length = nghttp2_session_mem_send(session_, &data);
  if (length <= 0) return {};
  return {data, static_cast<std::size_t>(length)};
}

bool ServerConnection::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

bool ServerConnection::respond(int32_t stream_id, int status, std::span<const Header> headers,
                               bool end_stream) {
  Stream* stream = find(stream_id);
  if (stream == nullptr) return false;
  char status_text[4];
  std::snprintf(status_text, sizeof status_text, "%03d", std::clamp(status, 100, 999));
  std::vector<nghttp2_nv> nvs;
  nvs.reserve(headers.size() + 1);
  nvs.push_back(to_nv(":status", std::string_view(status_text, 3)));
  for (const nghttp2_nv& nv : to_nvs(headers)) nvs.push_back(nv);
  nghttp2_data_provider body{};
  body.source.ptr = stream;
  body.read_callback = Callbacks::read_body;
  return nghttp2_submit_response(session_, stream_id, nvs.data(), nvs.size(),
                                 end_stream ? nullptr : &body) == 0;
}

void ServerConnection::send_data(int32_t stream_id, std::span<const uint8_t> data) {
  Stream* stream = find(stream_id);
  if (stream == nullptr || data.empty()) return;
  stream->out.append(reinterpret_cast<const char*>(data.data()), data.size());
  nghttp2_session_resume_data(session_, stream_id);
}

void ServerConnection::end_response(int32_t stream_id, std::span<const Header> trailers) {
  Stream* stream = find(stream_id);
  if (stream == nullptr || stream->out_ended) return;
  stream->out_ended = true;
  for (const Header& h : trailers) {
    stream->trailers.push_back({static_cast<uint32_t>(stream->trailer_bytes.size()),
                                static_cast<uint32_t>(h.name.size()),
                                static_cast<uint32_t>(h.value.size())});
    stream->trailer_bytes.append(h.name).append(h.value);
  }
  nghttp2_session_resume_data(session_, stream_id);
}

std::size_t ServerConnection::queued_bytes(int32_t stream_id) const {
  const Stream* stream = find(stream_id);
  return stream == nullptr ? 0 : stream->out.size() - stream->out_taken;
}

void ServerConnection::reset(int32_t stream_id, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

void ServerConnection::consume(int32_t stream_id, std::size_t bytes) {
  Stream* stream = find(stream_id);
  if (stream == nullptr) return;  // Closed: its bytes were credited then.
  bytes = std::min(bytes, stream->unconsumed);
  stream->unconsumed -= bytes;
  nghttp2_session_consume(session_, stream_id, bytes);
}

void ServerConnection::shut_down() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

}  // namespace fulcrum::http2
