#pragma once

// A stream's state inside a Connection: the fields received (a head, then perhaps trailers) and
// the body queued to send. Internal to src/http2.

#include <nghttp2/nghttp2.h>

#include <string>
#include <vector>

#include "http2/connection.h"

namespace fulcrum::http2 {

namespace detail {

struct StreamState {
  /// A received field: offsets into `field_bytes`, which grows as fields arrive.
  struct StoredField {
    uint32_t offset = 0;
    uint32_t name_length = 0;
    uint32_t value_length = 0;
  };

  int32_t id = 0;
  // Received: the head's fields, then the trailers'.
  std::string field_bytes;
  std::vector<StoredField> fields;
  std::vector<Header> views;
  std::size_t field_list_size = 0;  ///< As RFC 9113 §6.5.2 counts it, for the limit.
  bool head_done = false;
  bool refused = false;  ///< Reset unreported (it crossed our GOAWAY): nothing more is reported.
  std::size_t head_field_count = 0;  ///< Fields of the head; trailers follow.
  std::size_t unconsumed = 0;        ///< Body bytes received and not yet consumed.
  // Sent: queued body bytes, how far nghttp2 has taken them, and how the body ends.
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
  /// Views of the regular fields from field `first` on (pseudo-headers left out).
  std::span<const Header> regular_fields(std::size_t first) {
    views.clear();
    for (std::size_t i = first; i < fields.size(); ++i) {
      const Header h = view(fields[i], field_bytes);
      if (!h.name.starts_with(':')) views.push_back(h);
    }
    return views;
  }
  std::span<const Header> head() { return regular_fields(0); }
  std::span<const Header> trailers_received() { return regular_fields(head_field_count); }
  /// A pseudo-header of the head (they come first: nghttp2 refuses them after a regular field).
  std::string_view pseudo(std::string_view name) const {
    for (const StoredField& f : fields) {
      const Header h = view(f, field_bytes);
      if (!h.name.starts_with(':')) break;
      if (h.name == name) return h.value;
    }
    return {};
  }
  /// The head is complete: later fields are trailers.
  void end_head() {
    head_done = true;
    head_field_count = fields.size();
  }
  /// Forgets an interim (1xx) head: the next head replaces it.
  void drop_head() {
    field_bytes.clear();
    fields.clear();
    field_list_size = 0;
  }
  static Header view(const StoredField& f, const std::string& bytes) {
    const std::string_view all(bytes);
    return {all.substr(f.offset, f.name_length),
            all.substr(f.offset + f.name_length, f.value_length)};
  }
};

}  // namespace detail

/// nghttp2's data source for the body a stream sends: its queued bytes as they come, then the
/// end of the stream or its trailers.
ssize_t read_queued_body(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                         size_t length, uint32_t* flags, nghttp2_data_source* source, void*);

inline nghttp2_data_provider body_of(detail::StreamState& stream) {
  nghttp2_data_provider body{};
  body.source.ptr = &stream;
  body.read_callback = read_queued_body;
  return body;
}

}  // namespace fulcrum::http2
