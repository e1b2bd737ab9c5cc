#pragma once

// Maps method and path to an endpoint after checking the caller (auth.h). Every refusal is
// logged with the peer, method, path and reason.

#include <asio/awaitable.hpp>

#include "admin/auth.h"
#include "admin/context.h"
#include "admin/http_types.h"

namespace fulcrum::admin {

asio::awaitable<Response> route(Context& context, const Auth& auth, const Request& request);

}  // namespace fulcrum::admin
