// GET /: the status page, one self-contained HTML document (status_page.html, embedded at build
// time). It holds no data itself: its script reads /api/v1/clusters every two seconds.
#include "admin/handlers.h"

namespace fulcrum::admin {

extern const std::string_view kStatusPageHtml;

Response status_page() {
  Response response{.status = 200,
                    .content_type = "text/html; charset=utf-8",
                    .body = std::string(kStatusPageHtml)};
  // No external assets: the page may only talk to this listener.
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
      "connect-src 'self'; img-src data:; frame-ancestors 'none'");
  return response;
}

}  // namespace fulcrum::admin
