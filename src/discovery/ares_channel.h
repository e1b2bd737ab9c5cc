#pragma once

// A c-ares channel driven by an Asio io_context: c-ares says which sockets it wants watched
// (ARES_OPT_SOCK_STATE_CB), each is waited on with a non-owning posix::stream_descriptor, and one
// timer covers c-ares's own timeouts. Lookups never block the thread.

#include <ares.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/server.h"

namespace fulcrum::discovery {

/// Managed by shared_ptr: pending waits hold a weak reference, so destroying the channel while
/// waits are queued is safe. Use on the io_context's thread only.
class AresChannel : public std::enable_shared_from_this<AresChannel> {
 public:
  /// `resolvers`: "ip:port" each; empty: /etc/resolv.conf. Throws std::runtime_error.
  static std::shared_ptr<AresChannel> create(asio::io_context& io,
                                             const std::vector<std::string>& resolvers);
  ~AresChannel();
  AresChannel(const AresChannel&) = delete;
  AresChannel& operator=(const AresChannel&) = delete;

  /// The raw response (for the TTLs) or a c-ares status.
  using QueryHandler = std::function<void(int status, const unsigned char* answer, int length)>;
  void query(const std::string& name, int type, QueryHandler handler);

  struct Addresses {
    std::vector<core::NetAddress> addresses;  ///< IPv4 first, as ares sorts them; port 0.
    uint32_t ttl_seconds = 0;                 ///< Smallest TTL of the answer.
  };
  using AddressHandler = std::function<void(int status, Addresses)>;
  /// A and AAAA records of `name`.
  void resolve(const std::string& name, AddressHandler handler);

  /// Fails every lookup in flight with ARES_ECANCELLED.
  void cancel();

 private:
  struct Watch;
  explicit AresChannel(asio::io_context& io);
  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  void socket_state(ares_socket_t fd, bool readable, bool writable);
  void wait(const std::shared_ptr<Watch>& watch, bool for_read);
  void arm_timer();

  asio::io_context& io_;
  ares_channel channel_ = nullptr;
  asio::steady_timer timer_;
  std::unordered_map<ares_socket_t, std::shared_ptr<Watch>> watches_;
};

}  // namespace fulcrum::discovery
