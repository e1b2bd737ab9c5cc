// Head rewriting for a reverse proxy (RFC 9110 §7.6.1 hop-by-hop fields, RFC 7239 Forwarded,
// the de-facto X-Forwarded-For/-Proto). Hop-by-hop fields are Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Upgrade and whatever Connection names - except Host and the
// framing fields: "Connection: content-length" must not make the proxy drop the length of a body
// it forwards verbatim.
#include "http/forward.h"

#include <charconv>
#include <cstring>

#include "http/chars.h"

namespace fulcrum::http {

namespace {

using detail::iequals;

// Appends into a fixed buffer; after the first overflow every append is a no-op and size() is 0.
class Writer {
 public:
  explicit Writer(std::span<char> out) : out_(out) {}

  Writer& put(std::string_view s) {
    if (ok_ && s.size() <= out_.size() - used_) {
      std::memcpy(out_.data() + used_, s.data(), s.size());
      used_ += s.size();
    } else {
      ok_ = false;
    }
    return *this;
  }
  Writer& put(uint64_t v) {
    char digits[20];
    const auto r = std::to_chars(digits, digits + sizeof(digits), v);
    return put(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
  }
  Writer& field(std::string_view name, std::string_view value) {
    return put(name).put(": ").put(value).put("\r\n");
  }
  std::size_t size() const { return ok_ ? used_ : 0; }

 private:
  std::span<char> out_;
  std::size_t used_ = 0;
  bool ok_ = true;
};

bool connection_names(std::span<const Header> headers, std::string_view name) {
  for (const Header& h : headers) {
    if (!iequals(h.name, "connection")) continue;
    bool named = false;
    detail::for_each_list_element(h.value, [&](std::string_view option) {
      named = iequals(option, name);
      return !named;
    });
    if (named) return true;
  }
  return false;
}

bool is_framing_or_host(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "host");
}

// Fields that never cross the proxy, whatever Connection says. Upgrade is handled by callers.
bool is_hop_by_hop(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "te") || iequals(name, "trailer");
}

// "Transfer_Encoding", "content_length", "X_Forwarded_For"...: servers that map field names to
// CGI-style variables (HTTP_TRANSFER_ENCODING) read such a field as the one fulcrum framed, routed
// or forwarded by, so it could smuggle a second framing or spoof the client's address. Dropped;
// other fields with '_' pass (nginx drops them all, `underscores_in_headers off`).
bool aliases_a_controlled_field(std::string_view name) {
  if (name.find('_') == std::string_view::npos) return false;
  constexpr std::string_view kControlled[] = {"content-length",
                                              "transfer-encoding",
                                              "host",
                                              "connection",
                                              "keep-alive",
                                              "proxy-connection",
                                              "te",
                                              "trailer",
                                              "upgrade",
                                              "x-forwarded-for",
                                              "x-forwarded-proto",
                                              "forwarded",
                                              "expect"};
  for (std::string_view controlled : kControlled) {
    if (controlled.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      const char c = name[i] == '_' ? '-' : detail::to_lower(name[i]);
      same = c == controlled[i];
    }
    if (same) return true;
  }
  return false;
}

bool should_drop(std::span<const Header> headers, std::string_view name) {
  if (aliases_a_controlled_field(name)) return true;
  if (is_framing_or_host(name)) return false;
  return is_hop_by_hop(name) || connection_names(headers, name);
}

// A Forwarded parameter value (RFC 7239 §4): a token as is, otherwise a quoted-string.
void put_forwarded_value(Writer& w, std::string_view value, bool bracket) {
  if (!bracket && detail::is_token(value)) {
    w.put(value);
    return;
  }
  w.put("\"");
  if (bracket) w.put("[");
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '"' || value[i] == '\\') w.put("\\");
    w.put(value.substr(i, 1));
  }
  if (bracket) w.put("]");
  w.put("\"");
}

}  // namespace

std::size_t write_forwarded_request_head(const RequestHead& head, const ForwardInfo& info,
                                         std::span<char> out) {
  const std::span<const Header> headers = head.header_list();
  Writer w(out);
  // An HTTP/1.0 request stays 1.0 upstream, so the server never answers with a chunked body
  // that the 1.0 client could not read (RFC 9112 section 7.1).
  w.put(head.method).put(" ").put(head.target);
  w.put(head.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  bool has_host = false;
  for (const Header& h : headers) {
    if (should_drop(headers, h.name) || iequals(h.name, "upgrade") ||
        iequals(h.name, "x-forwarded-for") || iequals(h.name, "x-forwarded-proto") ||
        iequals(h.name, "forwarded")) {
      continue;
    }
    // The parser accepted only these exact framings; writing them canonically means the
    // upstream cannot read "CHUNKED" or "007" differently from us.
    if (iequals(h.name, "transfer-encoding")) {
      w.field("Transfer-Encoding", "chunked");
    } else if (iequals(h.name, "content-length")) {
      w.put("Content-Length: ").put(head.content_length).put("\r\n");
    } else if (iequals(h.name, "host")) {
      // head.host is the authority of an absolute-form target when there is one (RFC 9112
      // §3.2.2); sending it as Host keeps the upstream from routing on the other value.
      has_host = true;
      w.field(h.name, head.host);
    } else {
      w.field(h.name, h.value);
    }
  }
  if (!has_host) w.field("Host", head.host.empty() ? info.listener_host : head.host);

  const std::string_view client = info.client_ip.empty() ? "unknown" : info.client_ip;
  // Earlier hops' values are kept unless the client declared them hop-by-hop.
  const bool keep_xff = !connection_names(headers, "x-forwarded-for");
  const bool keep_forwarded = !connection_names(headers, "forwarded");
  w.put("X-Forwarded-For: ");
  for (const Header& h : headers) {
    if (keep_xff && iequals(h.name, "x-forwarded-for") && !h.value.empty()) {
      w.put(h.value).put(", ");
    }
  }
  w.put(client).put("\r\n");
  w.field("X-Forwarded-Proto", info.proto);

  w.put("Forwarded: ");
  for (const Header& h : headers) {
    if (keep_forwarded && iequals(h.name, "forwarded") && !h.value.empty()) {
      w.put(h.value).put(", ");
    }
  }
  w.put("for=");
  put_forwarded_value(w, client, client.find(':') != std::string_view::npos);
  w.put(";proto=");
  put_forwarded_value(w, info.proto, false);
  const std::string_view host = head.host.empty() ? info.listener_host : head.host;
  if (!host.empty()) {
    w.put(";host=");
    put_forwarded_value(w, host, false);
  }
  w.put("\r\n");

  if (head.upgrade) {
    w.put("Connection: upgrade\r\n");
    for (const Header& h : headers) {
      if (iequals(h.name, "upgrade")) w.field(h.name, h.value);
    }
  } else {
    w.put("Connection: keep-alive\r\n");
  }
  w.put("\r\n");
  return w.size();
}

std::size_t write_forwarded_response_head(const ResponseHead& head, bool close,
                                          std::span<char> out) {
  const std::span<const Header> headers = head.header_list();
  const bool switching = head.status == 101 && head.upgrade;
  Writer w(out);
  w.put("HTTP/1.1 ").put(static_cast<uint64_t>(head.status)).put(" ");
  w.put(head.reason.empty() ? reason_phrase(head.status) : head.reason).put("\r\n");
  for (const Header& h : headers) {
    if (iequals(h.name, "upgrade") ? !switching : should_drop(headers, h.name)) continue;
    w.field(h.name, h.value);
  }
  if (switching) {
    w.put("Connection: upgrade\r\n");
  } else {
    w.put(close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
  }
  w.put("\r\n");
  return w.size();
}

std::size_t write_simple_response(int status, std::string_view body, bool close,
                                  std::span<char> out) {
  Writer w(out);
  w.put("HTTP/1.1 ").put(static_cast<uint64_t>(status)).put(" ").put(reason_phrase(status));
  w.put("\r\nContent-Type: text/plain\r\nContent-Length: ").put(uint64_t{body.size()});
  w.put(close ? "\r\nConnection: close\r\n\r\n" : "\r\nConnection: keep-alive\r\n\r\n");
  w.put(body);
  return w.size();
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace fulcrum::http
