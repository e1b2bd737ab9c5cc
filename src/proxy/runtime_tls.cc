// The TLS side of the Runtime kept apart from runtime.cc: reloading listener certificates.
#include <spdlog/spdlog.h>

#include "proxy/runtime.h"
#include "tls/server_context.h"

namespace fulcrum::proxy {

bool Runtime::reload_tls() {
  bool all = true;
  for (const auto& listener : listeners_) {
    if (!listener->tls) continue;
    try {
      listener->tls->reload();
      spdlog::info("listener {}: TLS certificates reloaded", listener->config.name);
    } catch (const tls::TlsError& e) {
      all = false;
      spdlog::error("listener {}: TLS certificates not reloaded, the current ones stay: {}",
                    listener->config.name, e.what());
    }
  }
  return all;
}

}  // namespace fulcrum::proxy
