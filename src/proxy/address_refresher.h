#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace fulcrum::generation {
class Generation;
}  // namespace fulcrum::generation

namespace fulcrum::proxy {

/// Re-resolves server names every `dns_refresh` on a thread of its own, so a name that moves
/// (a replaced VM, a DNS failover) is followed without a restart and the request path never
/// waits on a lookup. A changed address is published as a new cluster snapshot; live state
/// stays with the server. A failed lookup keeps the last good address and is logged.
class AddressRefresher {
 public:
  explicit AddressRefresher(generation::Generation& runtime);
  ~AddressRefresher() { stop(); }
  AddressRefresher(const AddressRefresher&) = delete;
  AddressRefresher& operator=(const AddressRefresher&) = delete;

  /// Starts the thread unless refreshing is off or no server is named by a host name.
  void start();
  void stop();

  /// One pass over every cluster; returns how many server addresses changed.
  std::size_t refresh_once();

 private:
  void run();

  generation::Generation& runtime_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace fulcrum::proxy
