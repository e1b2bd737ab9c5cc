#include "discovery/ares_channel.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace fulcrum::discovery {

struct AresChannel::Watch {
  Watch(asio::io_context& io, ares_socket_t fd) : fd(fd), descriptor(io, fd) {}
  ares_socket_t fd;
  asio::posix::stream_descriptor descriptor;  // Released, never closed: c-ares owns the fd.
  bool want_read = false;
  bool want_write = false;
  bool read_pending = false;
  bool write_pending = false;
  bool closed = false;
};

namespace {

// Lookups should fail over and give up quickly: a failed refresh keeps the last good answer and
// retries anyway.
constexpr int kTimeoutMs = 1000;
constexpr int kTries = 2;

void library_init() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

template <typename Handler>
struct Call {
  std::weak_ptr<AresChannel> channel;
  Handler handler;
};

}  // namespace

AresChannel::AresChannel(asio::io_context& io) : io_(io), timer_(io) {}

std::shared_ptr<AresChannel> AresChannel::create(asio::io_context& io,
                                                 const std::vector<std::string>& resolvers) {
  library_init();
  std::shared_ptr<AresChannel> self(new AresChannel(io));
  ares_options options{};
  options.sock_state_cb = &AresChannel::on_socket_state;
  options.sock_state_cb_data = self.get();
  options.timeout = kTimeoutMs;
  options.tries = kTries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (const int status = ares_init_options(&self->channel_, &options, mask);
      status != ARES_SUCCESS) {
    throw std::runtime_error(std::string("c-ares: ") + ares_strerror(status));
  }
  if (!resolvers.empty()) {
    std::string csv;
    for (const auto& resolver : resolvers) csv += (csv.empty() ? "" : ",") + resolver;
    if (const int status = ares_set_servers_ports_csv(self->channel_, csv.c_str());
        status != ARES_SUCCESS) {
      throw std::runtime_error("c-ares resolvers '" + csv + "': " + ares_strerror(status));
    }
  }
  return self;
}

AresChannel::~AresChannel() {
  // Fails pending lookups (their handlers see ARES_EDESTRUCTION) and closes the sockets, which
  // releases every watch.
  if (channel_) ares_destroy(channel_);
  for (auto& [fd, watch] : watches_) {
    watch->closed = true;
    std::error_code ignored;
    watch->descriptor.cancel(ignored);
    watch->descriptor.release();
  }
}

void AresChannel::on_socket_state(void* self, ares_socket_t fd, int readable, int writable) {
  static_cast<AresChannel*>(self)->socket_state(fd, readable != 0, writable != 0);
}

void AresChannel::socket_state(ares_socket_t fd, bool readable, bool writable) {
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    if (it == watches_.end()) return;
    it->second->closed = true;
    std::error_code ignored;
    it->second->descriptor.cancel(ignored);
    it->second->descriptor.release();
    watches_.erase(it);
    return;
  }
  if (it == watches_.end()) it = watches_.emplace(fd, std::make_shared<Watch>(io_, fd)).first;
  const auto& watch = it->second;
  watch->want_read = readable;
  watch->want_write = writable;
  if (readable) wait(watch, true);
  if (writable) wait(watch, false);
}

void AresChannel::wait(const std::shared_ptr<Watch>& watch, bool for_read) {
  bool& pending = for_read ? watch->read_pending : watch->write_pending;
  if (pending || watch->closed) return;
  pending = true;
  watch->descriptor.async_wait(
      for_read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write,
      [weak = weak_from_this(), watch, for_read](std::error_code ec) {
        (for_read ? watch->read_pending : watch->write_pending) = false;
        const auto self = weak.lock();
        if (ec || !self || watch->closed) return;
        ares_process_fd(self->channel_, for_read ? watch->fd : ARES_SOCKET_BAD,
                        for_read ? ARES_SOCKET_BAD : watch->fd);
        if (!watch->closed && (for_read ? watch->want_read : watch->want_write)) {
          self->wait(watch, for_read);
        }
        self->arm_timer();
      });
}

void AresChannel::arm_timer() {
  timeval max{1, 0};
  timeval tv{};
  const timeval* left = ares_timeout(channel_, &max, &tv);
  const auto delay = std::chrono::seconds(left->tv_sec) + std::chrono::microseconds(left->tv_usec);
  timer_.expires_after(delay);
  timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (ec) return;
    const auto self = weak.lock();
    if (!self) return;
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // Timeouts.
    // Keep ticking only while lookups are pending (c-ares has sockets open for them).
    if (!self->watches_.empty()) self->arm_timer();
  });
}

void AresChannel::query(const std::string& name, int type, QueryHandler handler) {
  auto* call = new Call<QueryHandler>{weak_from_this(), std::move(handler)};
  ares_query(
      channel_, name.c_str(), 1 /* C_IN */, type,
      [](void* arg, int status, int, unsigned char* answer, int length) {
        std::unique_ptr<Call<QueryHandler>> call(static_cast<Call<QueryHandler>*>(arg));
        call->handler(status, answer, length);
      },
      call);
  arm_timer();
}

void AresChannel::resolve(const std::string& name, AddressHandler handler) {
  auto* call = new Call<AddressHandler>{weak_from_this(), std::move(handler)};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(
      channel_, name.c_str(), nullptr, &hints,
      [](void* arg, int status, int, ares_addrinfo* info) {
        std::unique_ptr<Call<AddressHandler>> call(static_cast<Call<AddressHandler>*>(arg));
        Addresses out;
        bool first = true;
        if (status == ARES_SUCCESS && info) {
          for (const ares_addrinfo_node* node = info->nodes; node; node = node->ai_next) {
            core::NetAddress address;
            if (node->ai_family == AF_INET) {
              address.family = 4;
              const auto* in = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
              std::memcpy(address.bytes.data(), &in->sin_addr, 4);
            } else if (node->ai_family == AF_INET6) {
              address.family = 6;
              const auto* in = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
              std::memcpy(address.bytes.data(), &in->sin6_addr, 16);
            } else {
              continue;
            }
            const uint32_t ttl = static_cast<uint32_t>(std::max(node->ai_ttl, 0));
            out.ttl_seconds = first ? ttl : std::min(out.ttl_seconds, ttl);
            first = false;
            out.addresses.push_back(address);
          }
        }
        if (info) ares_freeaddrinfo(info);
        call->handler(status, std::move(out));
      },
      call);
  arm_timer();
}

void AresChannel::cancel() { ares_cancel(channel_); }

}  // namespace fulcrum::discovery
