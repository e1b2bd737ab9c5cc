#pragma once

// The admin API's endpoints, one group per file: clusters.cc (reads), servers.cc (changes),
// explain.cc, metrics.cc, status_page.cc, reload.cc. The router has already checked the caller.

#include <asio/awaitable.hpp>
#include <string_view>

#include "admin/auth.h"
#include "admin/context.h"
#include "admin/http_types.h"

namespace fulcrum::admin {

Response get_clusters(Context& context);
Response get_cluster(Context& context, std::string_view name);
Response get_server(Context& context, std::string_view name, std::string_view address);

Response add_server(Context& context, const Request& request, const Caller& caller,
                    std::string_view name);
Response patch_server(Context& context, const Request& request, const Caller& caller,
                      std::string_view name, std::string_view address);
asio::awaitable<Response> delete_server(Context& context, const Request& request,
                                        const Caller& caller, std::string_view name,
                                        std::string_view address);

Response explain(Context& context, const Request& request);
/// POST /api/v1/reload: as SIGHUP. 200 when applied; 400 with the error otherwise.
Response reload(Context& context, const Caller& caller);
Response metrics(Context& context);
Response status_page();

/// "host:port" in the canonical form the config loader stores ("LOCALHOST:09" -> "localhost:9");
/// the input unchanged when it is not an address, so lookups simply find nothing.
std::string canonical_address(std::string_view address);

}  // namespace fulcrum::admin
