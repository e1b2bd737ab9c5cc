#include "proxy/upstream_pool.h"

#include <sys/socket.h>

#include <cerrno>

namespace fulcrum::proxy {

namespace {
constexpr core::Nanos kTrustedIdle = std::chrono::seconds(1);
}  // namespace

bool looks_open(asio::ip::tcp::socket& socket) {
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  // EOF (0), an error, or unexpected bytes from a server that should be silent: all unusable.
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

UpstreamPool::Slot& UpstreamPool::slot(const std::shared_ptr<core::ServerState>& server,
                                       const core::NetAddress& address) {
  auto it = slots_.find(server.get());
  if (it == slots_.end()) {
    it = slots_.emplace(server.get(), Slot{address, server, {}}).first;
  } else if (it->second.address != address) {
    it->second.idle.clear();  // Closes them: they lead to where the name no longer points.
    it->second.address = address;
  }
  return it->second;
}

std::optional<tls::Stream> UpstreamPool::take(Slot& slot, core::Nanos now,
                                              core::Nanos max_idle_time) {
  while (!slot.idle.empty()) {
    Slot::Idle idle = std::move(slot.idle.back());
    slot.idle.pop_back();
    // A connection that just served a response is trusted without a system call; an older one
    // is checked. Either way only replayable requests get pooled connections, and a stale one
    // is retried on a fresh connection, so a close racing this check loses nothing.
    const core::Nanos idle_for = now - idle.since;
    if (idle_for < max_idle_time && (idle_for < kTrustedIdle || looks_open(idle.stream.socket()))) {
      return std::move(idle.stream);
    }
    std::error_code ignored;
    idle.stream.socket().close(ignored);
  }
  return std::nullopt;
}

void UpstreamPool::give_back(Slot& slot, tls::Stream stream, core::Nanos now, uint32_t max_idle,
                             core::Nanos max_idle_time) {
  slot.max_idle_time = max_idle_time;
  if (slot.idle.size() >= max_idle) {
    std::error_code ignored;
    stream.socket().close(ignored);
    return;
  }
  slot.idle.push_back({std::move(stream), now});
}

void UpstreamPool::sweep(core::Nanos now) {
  for (auto it = slots_.begin(); it != slots_.end();) {
    // A request in progress holds its snapshot, which holds the server's state: a count of one
    // means no snapshot lists the server any more, and none ever will again.
    if (it->second.server.use_count() == 1) {
      it = slots_.erase(it);  // Closes its idle connections.
      continue;
    }
    const core::Nanos max_idle_time = it->second.max_idle_time;
    std::erase_if(it->second.idle, [&](Slot::Idle& idle) {
      return now - idle.since >= max_idle_time || !looks_open(idle.stream.socket());
    });
    ++it;
  }
}

void UpstreamPool::close_all() {
  for (auto& [key, slot] : slots_) {
    for (auto& idle : slot.idle) {
      std::error_code ignored;
      idle.stream.socket().close(ignored);
    }
    slot.idle.clear();
  }
}

}  // namespace fulcrum::proxy
