#include "http2/connection.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "http2/nv.h"
#include "http2/stream.h"

namespace fulcrum::http2 {

/// nghttp2's callbacks, each handing the event to the Connection named by `user_data`.
class Connection::Callbacks {
 public:
  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Connection& c = self(user_data);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
        c.side_ == Side::kServer) {
      c.add_stream(std::make_unique<Stream>(), frame->hd.stream_id);
    }
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                       void* user_data) {
    Connection& c = self(user_data);
    Stream* stream = c.find(frame->hd.stream_id);
    if (stream == nullptr) return 0;
    stream->field_list_size += name_length + value_length + 32;
    // Over the limit: the stream is reset (RFC 9113 §6.5.2 lets a receiver refuse it).
    if (stream->field_list_size > c.limits_.max_header_list_bytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    stream->add_field({reinterpret_cast<const char*>(name), name_length},
                      {reinterpret_cast<const char*>(value), value_length});
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    Connection& c = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      c.goaway_received(frame->goaway.last_stream_id, frame->goaway.error_code);
      return 0;
    }
    Stream* stream = c.find(frame->hd.stream_id);
    if (stream == nullptr || stream->refused) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !stream->head_done) {
      c.head_received(*stream, end_stream);
    } else if (frame->hd.type == NGHTTP2_HEADERS) {
      c.message_ended(stream->id, stream->trailers_received());
    } else if (frame->hd.type == NGHTTP2_DATA && end_stream) {
      c.message_ended(stream->id, {});
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    Connection& c = self(user_data);
    Stream* stream = c.find(stream_id);
    if (stream == nullptr || stream->refused) {
      nghttp2_session_consume(session, stream_id, length);  // Nobody will: credit it now.
      return 0;
    }
    stream->unconsumed += length;
    c.data_received(stream_id, {data, length});
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t error_code,
                             void* user_data) {
    Connection& c = self(user_data);
    const auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) return 0;
    // Body bytes the proxy will no longer take still count against the connection's window.
    if (it->second->unconsumed != 0) {
      nghttp2_session_consume_connection(session, it->second->unconsumed);
    }
    const bool reported = !it->second->refused;
    c.streams_.erase(it);
    if (reported) c.stream_closed(stream_id, error_code);
    return 0;
  }
};

Connection::Connection(Side side, const Limits& limits) : side_(side), limits_(limits) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::on_stream_close);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Credit returns as the proxy passes received bytes on (consume), not as they arrive.
  nghttp2_option_set_no_auto_window_update(option, 1);
  if (side == Side::kServer) {
    nghttp2_session_server_new2(&session_, callbacks, this, option);
  } else {
    nghttp2_session_client_new2(&session_, callbacks, this, option);
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);

  const std::array<nghttp2_settings_entry, 5> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
       side == Side::kServer ? limits.max_concurrent_streams : 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits.stream_window_bytes},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_header_list_bytes},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits.header_table_bytes},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  }};
  // A server must not send ENABLE_PUSH (RFC 9113 §6.5.2 allows it only from clients).
  const std::size_t count = side == Side::kServer ? settings.size() - 1 : settings.size();
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), count);
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(limits.connection_window_bytes));
}

Connection::~Connection() { nghttp2_session_del(session_); }

ssize_t read_queued_body(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                         size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
  auto& stream = *static_cast<detail::StreamState*>(source->ptr);
  const std::size_t n = std::min(length, stream.out.size() - stream.out_taken);
  std::memcpy(buffer, stream.out.data() + stream.out_taken, n);
  stream.out_taken += n;
  if (stream.out_taken == stream.out.size()) {
    stream.out.clear();
    stream.out_taken = 0;
  }
  if (!stream.out.empty() || !stream.out_ended) {
    return n == 0 ? ssize_t{NGHTTP2_ERR_DEFERRED} : static_cast<ssize_t>(n);
  }
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  if (!stream.trailers.empty()) {
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    std::vector<nghttp2_nv> nvs;
    for (const auto& f : stream.trailers) {
      const Header h = detail::StreamState::view(f, stream.trailer_bytes);
      nvs.push_back(to_nv(h.name, h.value));
    }
    if (nghttp2_submit_trailer(session, stream_id, nvs.data(), nvs.size()) != 0) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  return static_cast<ssize_t>(n);
}

Connection::Stream* Connection::find(int32_t stream) {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

const Connection::Stream* Connection::find(int32_t stream) const {
  const auto it = streams_.find(stream);
  return it == streams_.end() ? nullptr : it->second.get();
}

Connection::Stream& Connection::add_stream(std::unique_ptr<Stream> stream, int32_t id) {
  stream->id = id;
  Stream& added = *stream;
  streams_[id] = std::move(stream);
  return added;
}

bool Connection::receive(std::span<const uint8_t> bytes) {
  const ssize_t read = nghttp2_session_mem_recv(session_, bytes.data(), bytes.size());
  if (read >= 0) return true;
  // nghttp2 has queued the GOAWAY for what it detects itself; anything else ends the connection
  // with a PROTOCOL_ERROR GOAWAY of our own. A peer that is not speaking HTTP/2 gets none.
  if (read != NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
    nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  }
  return false;
}

std::span<const uint8_t> Connection::output() {
  const uint8_t* data = nullptr;
  const ssize_t length = nghttp2_session_mem_send(session_, &data);
  if (length <= 0) return {};
  return {data, static_cast<std::size_t>(length)};
}

bool Connection::finished() const {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

void Connection::send_data(int32_t stream_id, std::span<const uint8_t> data) {
  Stream* stream = find(stream_id);
  if (stream == nullptr || data.empty()) return;
  stream->out.append(reinterpret_cast<const char*>(data.data()), data.size());
  nghttp2_session_resume_data(session_, stream_id);
}

void Connection::end_message(int32_t stream_id, std::span<const Header> trailers) {
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

std::size_t Connection::queued_bytes(int32_t stream_id) const {
  const Stream* stream = find(stream_id);
  return stream == nullptr ? 0 : stream->out.size() - stream->out_taken;
}

void Connection::reset(int32_t stream_id, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
}

void Connection::consume(int32_t stream_id, std::size_t bytes) {
  Stream* stream = find(stream_id);
  if (stream == nullptr) return;  // Closed: its bytes were credited then.
  bytes = std::min(bytes, stream->unconsumed);
  stream->unconsumed -= bytes;
  nghttp2_session_consume(session_, stream_id, bytes);
}

void Connection::shut_down() {
  goaway_last_stream_ = nghttp2_session_get_last_proc_stream_id(session_);
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, goaway_last_stream_, NGHTTP2_NO_ERROR, nullptr,
                        0);
}

}  // namespace fulcrum::http2
