// Differential test of the request parser against http_parser (the Node.js/nginx-lineage C
// parser, libhttp-parser 2.9 as Debian ships it): over the fuzz seed corpus and a table of
// generated requests, both must take the same decision (accept, reject, need more bytes) and,
// when both accept, read the same method, target, version, fields, framing and body. Fulcrum may
// be stricter, but every difference is listed in kKnownDifferences with the reason; the test
// fails on a difference that is not listed and on a listed one that no longer differs, so the
// table stays the exact list of documented decisions (docs/reliability.md, "Parser differential").
#include <gtest/gtest.h>
#include <http_parser.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "http/chunked.h"
#include "http/message.h"

namespace fulcrum::http {
namespace {

enum class Decision { kAccept, kReject, kIncomplete };

const char* name_of(Decision d) {
  switch (d) {
    case Decision::kAccept:
      return "accept";
    case Decision::kReject:
      return "reject";
    case Decision::kIncomplete:
      return "incomplete";
  }
  return "?";
}

// What a parser read from one request (head and body). Field values are compared without
// surrounding whitespace, which is not part of the value (RFC 9110 §5.5).
struct Outcome {
  Decision decision = Decision::kIncomplete;
  std::string detail;  // Why it was rejected.
  std::string method;
  std::string target;
  int major = 0;
  int minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool chunked = false;
  std::optional<uint64_t> content_length;
  std::string body;

  // Same reading of the message, given that both accepted it.
  bool same_message(const Outcome& o) const {
    return method == o.method && target == o.target && major == o.major && minor == o.minor &&
           headers == o.headers && chunked == o.chunked && content_length == o.content_length &&
           body == o.body;
  }
};

std::string trim(std::string s) {
  const auto not_ows = [](char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_ows));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_ows).base(), s.end());
  return s;
}

Outcome parse_with_fulcrum(const std::string& input) {
  Outcome out;
  RequestHead head;
  ParseError error;
  switch (parse_request_head(input, Limits{}, head, error)) {
    case ParseResult::kIncomplete:
      return out;
    case ParseResult::kError:
      out.decision = Decision::kReject;
      out.detail = std::to_string(error.status) + " " + std::string(error.reason);
      return out;
    case ParseResult::kComplete:
      break;
  }
  out.method = head.method;
  out.target = head.target;
  out.major = 1;
  out.minor = head.version_minor;
  for (const Header& h : head.header_list()) {
    out.headers.emplace_back(std::string(h.name), std::string(h.value));
  }
  const std::string_view rest = std::string_view(input).substr(head.head_size);
  switch (head.framing) {
    case Framing::kNone:
    case Framing::kUntilClose:
      break;
    case Framing::kContentLength:
      out.content_length = head.content_length;
      if (rest.size() < head.content_length) return out;
      out.body = rest.substr(0, head.content_length);
      break;
    case Framing::kChunked: {
      out.chunked = true;
      ChunkedDecoder decoder;
      const std::function<void(std::string_view)> on_data = [&](std::string_view data) {
        out.body.append(data);
      };
      const auto step = decoder.feed(rest, &on_data);
      if (step.error) {
        out.decision = Decision::kReject;
        out.detail = "400 " + std::string(step.error_reason);
        return out;
      }
      if (!step.done) return out;
      break;
    }
  }
  out.decision = Decision::kAccept;
  return out;
}

// http_parser's callbacks fill an Outcome; the parser pauses after the first message so that
// bytes after it (a pipelined request) are not its concern.
struct ReferenceState {
  Outcome out;
  bool headers_complete = false;  // Later field callbacks are trailer fields: not compared.
  bool complete = false;
  bool in_value = false;
};

ReferenceState& state_of(http_parser* p) { return *static_cast<ReferenceState*>(p->data); }

int on_url(http_parser* p, const char* at, size_t n) {
  state_of(p).out.target.append(at, n);
  return 0;
}
int on_header_field(http_parser* p, const char* at, size_t n) {
  ReferenceState& s = state_of(p);
  if (s.headers_complete) return 0;
  if (s.in_value || s.out.headers.empty()) s.out.headers.emplace_back();
  s.in_value = false;
  s.out.headers.back().first.append(at, n);
  return 0;
}
int on_header_value(http_parser* p, const char* at, size_t n) {
  ReferenceState& s = state_of(p);
  if (s.headers_complete) return 0;
  s.in_value = true;
  s.out.headers.back().second.append(at, n);
  return 0;
}
int on_headers_complete(http_parser* p) {
  state_of(p).headers_complete = true;
  Outcome& out = state_of(p).out;
  out.method = http_method_str(static_cast<http_method>(p->method));
  out.major = p->http_major;
  out.minor = p->http_minor;
  out.chunked = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENTLENGTH) != 0 && !out.chunked) out.content_length = p->content_length;
  return 0;
}
int on_body(http_parser* p, const char* at, size_t n) {
  state_of(p).out.body.append(at, n);
  return 0;
}
int on_message_complete(http_parser* p) {
  state_of(p).complete = true;
  http_parser_pause(p, 1);
  return 0;
}

Outcome parse_with_http_parser(const std::string& input) {
  http_parser_settings settings{};
  settings.on_url = on_url;
  settings.on_header_field = on_header_field;
  settings.on_header_value = on_header_value;
  settings.on_headers_complete = on_headers_complete;
  settings.on_body = on_body;
  settings.on_message_complete = on_message_complete;
  ReferenceState state;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &state;
  http_parser_execute(&parser, &settings, input.data(), input.size());
  const auto error = static_cast<http_errno>(parser.http_errno);
  Outcome& out = state.out;
  for (auto& [name, value] : out.headers) value = trim(value);
  if (error != HPE_OK && error != HPE_PAUSED) {
    out.decision = Decision::kReject;
    out.detail = http_errno_name(error);
  } else if (state.complete) {
    out.decision = Decision::kAccept;
  }
  return out;
}

struct Case {
  std::string name;
  std::string bytes;
};

std::string with_fields(std::string_view fields) {
  return "GET / HTTP/1.1\r\nHost: a.example\r\n" + std::string(fields) + "\r\n";
}
std::string post_with(std::string_view fields, std::string_view body) {
  return "POST /upload HTTP/1.1\r\nHost: a.example\r\n" + std::string(fields) + "\r\n" +
         std::string(body);
}
std::string chunked_body(std::string_view body) {
  return post_with("Transfer-Encoding: chunked\r\n", body);
}

// Valid requests first, then one or more cases per strictness rule of Fulcrum (docs/http.md).
std::vector<Case> generated_cases() {
  std::string many_fields;
  for (int i = 0; i < 101; ++i) many_fields += "X-F" + std::to_string(i) + ": v\r\n";
  return {
      // Valid requests.
      {"get", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"},
      {"get_http10_no_host", "GET /x HTTP/1.0\r\n\r\n"},
      {"get_query", "GET /a/b?c=d&e=%20f HTTP/1.1\r\nHost: a.example:8080\r\n\r\n"},
      {"fields_ows", with_fields("X-A:   spaced   \r\nX-B:\ttab\t\r\nX-Empty:\r\n")},
      {"field_obs_text", with_fields("X-Latin: caf\xe9\r\n")},
      {"post_length", post_with("Content-Length: 5\r\n", "hello")},
      {"post_length_zero", post_with("Content-Length: 0\r\n", "")},
      {"post_length_leading_zeros", post_with("Content-Length: 005\r\n", "hello")},
      {"post_chunked", chunked_body("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")},
      {"post_chunked_ext", chunked_body("5;a=b;c=\"d\"\r\nhello\r\n0\r\n\r\n")},
      {"post_chunked_trailer", chunked_body("1\r\nx\r\n0\r\nX-Sum: 1\r\n\r\n")},
      {"post_chunked_uppercase_hex", chunked_body("A\r\n0123456789\r\n0\r\n\r\n")},
      {"post_te_mixed_case", post_with("Transfer-Encoding: Chunked\r\n", "0\r\n\r\n")},
      {"put_expect",
       "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n"
       "\r\nx"},
      {"absolute_form", "GET http://a.example/p?q HTTP/1.1\r\nHost: b.example\r\n\r\n"},
      {"connect", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"},
      {"options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"ipv6_host", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"},
      {"empty_host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"},
      {"upgrade", with_fields("Connection: Upgrade\r\nUpgrade: websocket\r\n")},
      {"connection_list", with_fields("Connection: keep-alive, , close\r\n")},
      {"leading_empty_line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"delete", "DELETE /r HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"pipelined", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"incomplete_head", "GET / HTTP/1.1\r\nHost: a\r\n"},
      {"incomplete_body", post_with("Content-Length: 10\r\n", "hello")},
      {"incomplete_chunked", chunked_body("5\r\nhel")},
      // Request line.
      {"bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n"},
      {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: a\n\n"},
      {"bare_cr_request_line", "GET / HTTP/1.1\rHost: a\r\n\r\n"},
      {"lowercase_method", "get / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"extension_method", "PURGEALL / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"method_too_long", std::string(33, 'M') + " / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"double_space_after_method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"tab_in_request_line", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"space_in_target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"fragment_in_target", "GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"ctl_in_target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"obs_text_in_target", "GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"target_too_long", "GET /" + std::string(8192, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"version_2_0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n"},
      {"version_1_2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n"},
      {"version_0_9_style", "GET /\r\n\r\n"},
      {"version_lowercase", "GET / http/1.1\r\nHost: a\r\n\r\n"},
      {"version_two_digits", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"},
      {"space_before_crlf", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"},
      {"nine_empty_lines", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"asterisk_not_options", "GET * HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"connect_origin_form", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"connect_without_port", "CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n"},
      {"authority_form_not_connect", "GET a.example:80 HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"absolute_form_ftp", "GET ftp://a.example/ HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"absolute_form_userinfo", "GET http://u:p@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n"},
      // Field lines.
      {"obs_fold", with_fields("X-A: one\r\n two\r\n")},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"},
      {"space_before_colon_cl", post_with("Content-Length : 5\r\n", "hello")},
      {"whitespace_before_first_field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"},
      {"bare_cr_in_field", with_fields("X-A: a\rb\r\n")},
      {"bare_lf_in_field", with_fields("X-A: a\nX-B: b\r\n")},
      {"nul_in_value", with_fields(std::string("X-A: a\0b\r\n", 10))},
      {"del_in_value", with_fields("X-A: a\x7f"
                                   "b\r\n")},
      {"ctl_in_value", with_fields("X-A: a\x01"
                                   "b\r\n")},
      {"invalid_char_in_name", with_fields("X(A): v\r\n")},
      {"obs_text_in_name", with_fields("X-\xe9: v\r\n")},
      {"empty_name", with_fields(": v\r\n")},
      {"missing_colon", with_fields("X-A v\r\n")},
      {"too_many_fields", with_fields(many_fields)},
      {"head_too_large", with_fields("X-Big: " + std::string(17000, 'b') + "\r\n")},
      // Host.
      {"missing_host", "GET / HTTP/1.1\r\n\r\n"},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"invalid_host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"},
      {"host_with_path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"},
      {"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"},
      {"host_bad_port", "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n"},
      // Content-Length.
      {"cl_duplicate_equal", post_with("Content-Length: 5\r\nContent-Length: 5\r\n", "hello")},
      {"cl_duplicate_different", post_with("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!")},
      {"cl_list", post_with("Content-Length: 5, 5\r\n", "hello")},
      {"cl_plus", post_with("Content-Length: +5\r\n", "hello")},
      {"cl_negative", post_with("Content-Length: -1\r\n", "")},
      {"cl_hex", post_with("Content-Length: 0x5\r\n", "hello")},
      {"cl_inner_space", post_with("Content-Length: 1 2\r\n", "")},
      {"cl_empty", post_with("Content-Length:\r\n", "")},
      {"cl_overflow", post_with("Content-Length: 99999999999999999999\r\n", "")},
      {"cl_max_uint64", post_with("Content-Length: 18446744073709551615\r\n", "")},
      {"cl_huge_fits", post_with("Content-Length: 18446744073709551614\r\n", "")},
      // Transfer-Encoding.
      {"te_with_cl", post_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")},
      {"cl_with_te", post_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")},
      {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"te_twice",
       post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")},
      {"te_gzip_chunked", post_with("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n")},
      {"te_chunked_gzip", post_with("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n")},
      {"te_identity", post_with("Transfer-Encoding: identity\r\n", "")},
      {"te_chunked_chunked", post_with("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n")},
      {"te_chunked_param", post_with("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n")},
      {"te_trailing_comma", post_with("Transfer-Encoding: chunked,\r\n", "0\r\n\r\n")},
      {"te_empty", post_with("Transfer-Encoding:\r\n", "")},
      {"te_chunked_prefix", post_with("Transfer-Encoding: chunkedx\r\n", "")},
      {"te_vertical_tab", post_with("Transfer-Encoding: \x0b"
                                    "chunked\r\n",
                                    "0\r\n\r\n")},
      // Connection.
      {"connection_invalid", with_fields("Connection: close\x01\r\n")},
      {"connection_quoted", with_fields("Connection: \"close\"\r\n")},
      // Chunked body.
      {"chunk_size_hex_prefix", chunked_body("0x5\r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_negative", chunked_body("-5\r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_17_digits", chunked_body("00000000000000005\r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_overflow", chunked_body("10000000000000000\r\n")},
      {"chunk_size_space_no_ext", chunked_body("5 x\r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_trailing_space", chunked_body("5 \r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_bws_ext", chunked_body("5 ;a=b\r\nhello\r\n0\r\n\r\n")},
      {"chunk_size_bare_lf", chunked_body("5\nhello\r\n0\r\n\r\n")},
      {"chunk_size_empty", chunked_body("\r\nhello\r\n0\r\n\r\n")},
      {"chunk_data_bare_lf", chunked_body("5\r\nhello\n0\r\n\r\n")},
      {"chunk_data_no_crlf", chunked_body("5\r\nhelloX\r\n0\r\n\r\n")},
      {"chunk_data_too_short", chunked_body("5\r\nhell\r\n0\r\n\r\n")},
      {"chunk_ext_no_name", chunked_body("5;\r\nhello\r\n0\r\n\r\n")},
      {"chunk_ext_bad_char", chunked_body("5;a=\x01\r\nhello\r\n0\r\n\r\n")},
      {"chunk_ext_unterminated_quote", chunked_body("5;a=\"b\r\nhello\r\n0\r\n\r\n")},
      {"chunk_ext_bare_lf", chunked_body("5;a=b\nhello\r\n0\r\n\r\n")},
      {"chunk_size_line_too_long",
       chunked_body("5;a=" + std::string(4100, 'x') + "\r\nhello\r\n0\r\n\r\n")},
      {"last_chunk_bare_lf_end", chunked_body("0\r\n\n")},
      {"trailer_obs_fold", chunked_body("0\r\nX: a\r\n b\r\n\r\n")},
      {"trailer_space_before_colon", chunked_body("0\r\nX : a\r\n\r\n")},
      {"trailer_bare_lf", chunked_body("0\r\nX: a\n\r\n")},
      {"trailer_no_colon", chunked_body("0\r\nXa\r\n\r\n")},
      {"trailer_ctl_in_value", chunked_body("0\r\nX: a\x01\r\n\r\n")},
      {"trailer_too_large", chunked_body("0\r\nX: " + std::string(16400, 't') + "\r\n\r\n")},
  };
}

std::vector<Case> corpus_cases() {
  std::vector<Case> cases;
  for (const auto& entry : std::filesystem::directory_iterator(FULCRUM_REQUEST_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    cases.push_back({"corpus/" + entry.path().filename().string(),
                     std::string(std::istreambuf_iterator<char>(in), {})});
  }
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

// How the two parsers differ on a case.
enum class Difference {
  kNone,
  kFulcrumStricter,  ///< Fulcrum rejects where http_parser accepts or waits for more.
  kFulcrumLaxer,     ///< Fulcrum accepts or waits for more where http_parser rejects.
  kOther,            ///< Accept against incomplete, or both accept but read different messages.
};

const char* name_of(Difference d) {
  switch (d) {
    case Difference::kNone:
      return "none";
    case Difference::kFulcrumStricter:
      return "Fulcrum stricter";
    case Difference::kFulcrumLaxer:
      return "Fulcrum laxer";
    case Difference::kOther:
      return "other";
  }
  return "?";
}

Difference compare(const Outcome& fulcrum, const Outcome& reference) {
  if (fulcrum.decision == reference.decision) {
    if (fulcrum.decision != Decision::kAccept || fulcrum.same_message(reference)) {
      return Difference::kNone;
    }
    return Difference::kOther;
  }
  if (fulcrum.decision == Decision::kReject) return Difference::kFulcrumStricter;
  if (reference.decision == Decision::kReject) return Difference::kFulcrumLaxer;
  return Difference::kOther;
}

struct KnownDifference {
  const char* name;
  Difference difference;
  const char* why;
};

// The documented decisions, case by case (docs/reliability.md lists the same table).
const std::vector<KnownDifference> kKnownDifferences = {
    {"bare_lf_request_line", Difference::kFulcrumStricter,
     "a bare LF ends lines for http_parser but not for every server (RFC 9112 §2.2 allows either): "
     "a line-end disagreement is a smuggling vector"},
    {"bare_lf_everywhere", Difference::kFulcrumStricter, "as bare_lf_request_line"},
    {"corpus/bad_bare_lf", Difference::kFulcrumStricter, "as bare_lf_request_line"},
    {"lowercase_method", Difference::kFulcrumLaxer,
     "methods are case-sensitive tokens (RFC 9110 §9.1): 'get' is an extension method, not GET; it "
     "never changes framing, which depends on GET/HEAD/CONNECT matched exactly"},
    {"extension_method", Difference::kFulcrumLaxer,
     "any token is a valid method (RFC 9110 §9.1, e.g. WebDAV, PURGE); http_parser knows a fixed "
     "list. Framing does not depend on the method"},
    {"double_space_after_method", Difference::kFulcrumStricter,
     "the request line is method SP target SP version with single spaces (RFC 9112 §3); extra "
     "spaces are where parsers split differently"},
    {"fragment_in_target", Difference::kFulcrumStricter,
     "'#' cannot appear in a request-target (RFC 9112 §3.2); a fragment is never sent"},
    {"obs_text_in_target", Difference::kFulcrumStricter,
     "a request-target holds only VCHAR (RFC 3986 percent-encodes the rest); raw bytes >= 0x80 are "
     "read differently by different servers"},
    {"target_too_long", Difference::kFulcrumStricter,
     "max_uri_bytes (8 KiB by default) answers 414 (RFC 9112 §3); http_parser has no target limit"},
    {"version_2_0", Difference::kFulcrumStricter,
     "only HTTP/1.0 and 1.1 are spoken on this connection: 505 (RFC 9110 §15.6.6); http_parser "
     "accepts any digit pair"},
    {"version_1_2", Difference::kFulcrumStricter, "as version_2_0"},
    {"corpus/bad_version", Difference::kFulcrumStricter, "as version_2_0"},
    {"version_0_9_style", Difference::kFulcrumStricter,
     "HTTP/0.9 requests (no version) are not supported: the target would swallow the rest of the "
     "line"},
    {"nine_empty_lines", Difference::kFulcrumStricter,
     "at most 8 empty lines are skipped before a request line (RFC 9112 §2.2 says at least one "
     "SHOULD be): bounds the work per byte of garbage"},
    {"asterisk_not_options", Difference::kFulcrumStricter,
     "asterisk-form is only for OPTIONS (RFC 9112 §3.2.4)"},
    {"connect_origin_form", Difference::kFulcrumStricter,
     "CONNECT takes authority-form only (RFC 9112 §3.2.3)"},
    {"connect_without_port", Difference::kFulcrumStricter,
     "CONNECT's authority must carry a port (RFC 9110 §9.3.6)"},
    {"absolute_form_ftp", Difference::kFulcrumStricter,
     "a proxy for http and https only: another scheme in absolute-form is refused"},
    {"absolute_form_userinfo", Difference::kFulcrumStricter,
     "userinfo is not allowed in an http(s) target (RFC 9110 §4.2.4) and hides the real host from "
     "naive parsers"},
    {"obs_fold", Difference::kFulcrumStricter,
     "obs-fold is rejected (RFC 9112 §5.2 allows a server to reject it): servers that unfold and "
     "those that do not see different fields"},
    {"corpus/bad_obs_fold", Difference::kFulcrumStricter, "as obs_fold"},
    {"whitespace_before_first_field", Difference::kFulcrumStricter,
     "whitespace between the start line and the first field MUST be rejected or the line ignored "
     "(RFC 9112 §2.2); http_parser takes the line as a field"},
    {"space_before_colon", Difference::kFulcrumStricter,
     "whitespace between a field name and ':' MUST be rejected with 400 (RFC 9112 §5.1)"},
    {"space_before_colon_cl", Difference::kFulcrumStricter,
     "as space_before_colon: 'Content-Length :' is the classic smuggling variant"},
    {"corpus/bad_space_before_colon", Difference::kFulcrumStricter, "as space_before_colon"},
    {"bare_lf_in_field", Difference::kFulcrumStricter, "as bare_lf_request_line"},
    {"too_many_fields", Difference::kFulcrumStricter,
     "at most 100 fields (431): a fixed array, no allocation per request"},
    {"head_too_large", Difference::kFulcrumStricter,
     "max_head_bytes (16 KiB by default) answers 431; http_parser's limit is 80 KiB"},
    {"missing_host", Difference::kFulcrumStricter,
     "an HTTP/1.1 request without Host MUST be answered 400 (RFC 9112 §3.2)"},
    {"corpus/bad_missing_host", Difference::kFulcrumStricter, "as missing_host"},
    {"two_hosts", Difference::kFulcrumStricter,
     "more than one Host MUST be answered 400 (RFC 9112 §3.2): routing and the backend could pick "
     "different ones"},
    {"corpus/bad_two_hosts", Difference::kFulcrumStricter, "as two_hosts"},
    {"invalid_host", Difference::kFulcrumStricter,
     "Host must be uri-host [':' port] (RFC 9112 §3.2, RFC 3986 §3.2.2): routing reads it"},
    {"host_with_path", Difference::kFulcrumStricter, "as invalid_host"},
    {"host_userinfo", Difference::kFulcrumStricter, "as invalid_host"},
    {"host_bad_port", Difference::kFulcrumStricter, "as invalid_host: a port has at most 5 digits"},
    {"cl_max_uint64", Difference::kFulcrumLaxer,
     "any 1*DIGIT that fits in 64 bits is a valid length (RFC 9110 §8.6); http_parser reserves "
     "values from ~1.8e18 up as its 'no length' mark. No desync: both read the same number or the "
     "backend refuses the request"},
    {"cl_huge_fits", Difference::kFulcrumLaxer, "as cl_max_uint64"},
    {"te_in_http10", Difference::kFulcrumStricter,
     "Transfer-Encoding in an HTTP/1.0 request means the framing is faulty (RFC 9112 §6.1): 400"},
    {"te_twice", Difference::kFulcrumStricter,
     "two Transfer-Encoding fields are refused rather than combined: servers disagree on whether "
     "to combine them"},
    {"te_gzip_chunked", Difference::kFulcrumStricter,
     "only the chunked coding is implemented: other codings are answered 501 (RFC 9112 §6.1)"},
    {"corpus/bad_te_gzip_chunked", Difference::kFulcrumStricter, "as te_gzip_chunked"},
    {"connection_quoted", Difference::kFulcrumStricter,
     "Connection is a list of tokens (RFC 9110 §7.6.1); a malformed list is refused since it "
     "decides what is hop-by-hop"},
    {"chunk_size_17_digits", Difference::kFulcrumStricter,
     "a chunk size has at most 16 hex digits (64 bits); longer ones are where parsers overflow "
     "differently"},
    {"chunk_size_space_no_ext", Difference::kFulcrumStricter,
     "whitespace after a chunk size may only precede ';' (BWS, RFC 9112 §7.1.1)"},
    {"chunk_size_trailing_space", Difference::kFulcrumStricter, "as chunk_size_space_no_ext"},
    {"chunk_ext_no_name", Difference::kFulcrumStricter,
     "chunk-ext = ';' token ['=' value] (RFC 9112 §7.1.1): extensions are validated, not skipped "
     "to the line end"},
    {"chunk_ext_bad_char", Difference::kFulcrumStricter, "as chunk_ext_no_name"},
    {"chunk_ext_unterminated_quote", Difference::kFulcrumStricter,
     "as chunk_ext_no_name: a quoted-string must end before the line does"},
    {"chunk_ext_bare_lf", Difference::kFulcrumStricter,
     "as chunk_ext_no_name; http_parser still waits for the line end"},
    {"chunk_size_line_too_long", Difference::kFulcrumStricter,
     "a chunk size line is at most 4096 bytes: extensions cannot make the proxy read an endless "
     "line"},
    {"last_chunk_bare_lf_end", Difference::kFulcrumStricter,
     "the chunked body ends with CRLF (RFC 9112 §7.1); a bare LF there is a line-end disagreement"},
    {"trailer_obs_fold", Difference::kFulcrumStricter, "as obs_fold, in the trailer section"},
    {"trailer_space_before_colon", Difference::kFulcrumStricter,
     "as space_before_colon, in the trailer section"},
    {"trailer_bare_lf", Difference::kFulcrumStricter,
     "as bare_lf_request_line, in the trailer section"},
    {"trailer_too_large", Difference::kFulcrumStricter, "the trailer section is at most 16 KiB"},
};

// Printable and short: targets may be long or hold any byte.
std::string printable(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  std::string out;
  for (const char c : text.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out;
}

std::string describe(const Outcome& o) {
  std::ostringstream s;
  s << name_of(o.decision);
  if (o.decision == Decision::kReject) s << " (" << o.detail << ")";
  if (o.decision == Decision::kAccept) {
    s << " [" << o.method << " " << printable(o.target) << " HTTP/" << o.major << "." << o.minor
      << ", " << o.headers.size() << " fields, " << (o.chunked ? "chunked" : "not chunked")
      << ", length " << (o.content_length ? std::to_string(*o.content_length) : "none") << ", body "
      << o.body.size() << " bytes]";
  }
  return s.str();
}

TEST(ParserDifferential, EveryDifferenceFromHttpParserIsDocumented) {
  std::vector<Case> cases = generated_cases();
  const std::vector<Case> corpus = corpus_cases();
  ASSERT_GE(corpus.size(), 10u) << "request corpus missing: " << FULCRUM_REQUEST_CORPUS_DIR;
  cases.insert(cases.end(), corpus.begin(), corpus.end());

  std::map<std::string, const KnownDifference*> known;
  for (const KnownDifference& k : kKnownDifferences) known[k.name] = &k;
  std::set<std::string> names;
  int same = 0;
  for (const Case& c : cases) {
    ASSERT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
    const Outcome fulcrum = parse_with_fulcrum(c.bytes);
    const Outcome reference = parse_with_http_parser(c.bytes);
    const Difference difference = compare(fulcrum, reference);
    if (std::getenv("FULCRUM_DIFFERENTIAL_VERBOSE") != nullptr) {
      std::cout << c.name << "\n  fulcrum:     " << describe(fulcrum)
                << "\n  http_parser: " << describe(reference) << "\n";
    }
    const auto it = known.find(c.name);
    const std::string both =
        "\n  fulcrum:     " + describe(fulcrum) + "\n  http_parser: " + describe(reference);
    if (it == known.end()) {
      EXPECT_EQ(difference, Difference::kNone)
          << c.name << ": undocumented difference (" << name_of(difference) << ")" << both;
      same += difference == Difference::kNone ? 1 : 0;
    } else {
      EXPECT_EQ(difference, it->second->difference)
          << c.name << ": the table says '" << name_of(it->second->difference) << "', found '"
          << name_of(difference) << "'" << both;
    }
  }
  for (const KnownDifference& k : kKnownDifferences) {
    EXPECT_TRUE(names.count(k.name)) << "table entry for a case that does not exist: " << k.name;
  }
  std::cout << cases.size() << " cases: " << same << " read alike, " << kKnownDifferences.size()
            << " documented differences\n";
}

}  // namespace
}  // namespace fulcrum::http
