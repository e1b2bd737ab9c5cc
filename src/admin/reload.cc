// POST /api/v1/reload: the same reload as SIGHUP, answered with its outcome.
#include <spdlog/spdlog.h>

#include "admin/handlers.h"
#include "admin/views.h"

namespace fulcrum::admin {

Response reload(Context& context, const Caller& caller) {
  if (!context.reload) return error_response(501, "reloading is not available in this process");
  spdlog::info("admin: reload requested by {}", caller.origin);
  const std::string error = context.reload();
  if (!error.empty()) return error_response(400, error);
  return json_response(200, {{"reloaded", true},
                             {"generation", context.runtime->serial()},
                             {"journal_entries", context.journal.size()}});
}

}  // namespace fulcrum::admin
