#pragma once

// One request's way through its cluster, whatever the wire protocol: the try-list hands out
// attempts, each attempt's outcome feeds passive tracking, outlier ejection and the server's
// statistics, the retry rule decides whether another attempt follows, and the access log learns
// which server answered. The sessions keep only their codec work and their loop around it.

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/try_list.h"
#include "generation/generation.h"
#include "net/connect.h"
#include "proxy/upstream_pool.h"
#include "tls/stream.h"

namespace fulcrum::proxy {

class Worker;

/// How an attempt that had a connection ended, as far as the retry rule and passive tracking
/// care; the wire protocol's own detail (a malformed response, a client gone) stays with the
/// session.
enum class AttemptEnd : uint8_t {
  kClosedBeforeResponse,  ///< Request bytes went; the server closed before any response byte.
  kResponseTimeout,       ///< No response head within the response timeout.
  kOver,  ///< Anything else: answered, or failed in a way another server would not mend.
};

/// What the session does after an attempt.
enum class Next : uint8_t {
  kRetry,       ///< Ask next_attempt() again.
  kStop,        ///< The request's outcome stands.
  kUnanswered,  ///< Stop: the server took a request that may not be replayed, and closed.
};

/// Which admission rules apply to what the try-list hands out.
enum class Traffic : uint8_t {
  /// max_connections_per_server, the upstream pool, retries counted in the server's statistics,
  /// load counted from the start of the attempt.
  kHttpRequest,
  /// A TCP connection: none of those; load counted once connected, success reported then.
  kTcpConnection,
};

/// The attempt in progress: rebuilt for each server tried, and for the fresh connection that
/// follows a pooled one the server had closed.
struct Attempt {
  core::Pick pick;
  UpstreamPool::Slot* slot = nullptr;  ///< kHttpRequest: where its connections are pooled.
  core::LoadGuard load;
  core::Nanos start{0};  ///< Of this connection: the latency sample is measured from here.
  bool pooled = false;   ///< The connection came from the pool.
  bool fresh = false;    ///< The pooled connection failed: only a new connection will do.
};

/// Lives on the request's stack (or in its session, emplaced per request); plain calls only, so
/// the request path neither allocates nor starts a coroutine here.
class RequestLifeCycle {
 public:
  RequestLifeCycle(generation::ClusterRuntime& cluster, Worker& worker,
                   std::optional<uint64_t> hash_key, bool replayable,
                   Traffic traffic = Traffic::kHttpRequest);
  RequestLifeCycle(const RequestLifeCycle&) = delete;
  RequestLifeCycle& operator=(const RequestLifeCycle&) = delete;

  /// Starts the next attempt (attempt()); false when the try-list has nothing left.
  bool next_attempt();
  const Attempt& attempt() const { return attempt_; }

  /// An idle connection to the attempt's server, for a request that may be replayed.
  std::optional<tls::Stream> take_pooled();
  /// Where net::connect goes for this attempt.
  net::ConnectTarget connect_target() const;
  /// The connection failed (nothing was sent): reported; the retry rule always goes on.
  void connect_failed(core::FailureCause cause);
  /// kTcpConnection: the connection stands; reported as a success, its load counted.
  void connected();
  /// The server's response head arrived: latency sample, statistics, outlier ejection.
  void responded(int status);
  /// The connection goes back to the pool when `reusable` (and the worker is not draining).
  void release(tls::Stream& upstream, bool reusable);
  /// The attempt is over: passive report and the retry rule's decision.
  Next ended(AttemptEnd end);
  /// The request ends on a response timeout: outlier ejection sees a gateway error, once.
  void timed_out();

  // For the answers and the access log.
  bool attempted() const { return attempted_; }
  bool limited() const { return limited_; }
  uint32_t attempts() const { return tries_.attempts(); }
  std::string_view upstream() const { return upstream_; }
  core::Nanos upstream_time() const { return upstream_time_; }
  uint32_t retries() const { return retries_; }
  /// The access log names no server when none answered.
  void forget_upstream() { upstream_ = {}; }

 private:
  /// Admission: the connection limit, a resolved address (else a name lookup failure).
  bool admit(const core::Pick& pick, UpstreamPool::Slot*& slot);
  /// retry_on lists `kind` and the request may be replayed.
  bool replays_after(core::FailureKind kind) const;
  void note_status(int status);

  generation::ClusterRuntime& cluster_;
  Worker& worker_;
  core::TryList tries_;
  Attempt attempt_;
  const bool replayable_;
  const Traffic traffic_;
  bool attempted_ = false;
  bool limited_ = false;  ///< A server was left out at its connection limit.
  bool reconnect_ = false;
  bool timeout_counted_ = false;  ///< The last server's response timeout is already counted.
  std::string_view upstream_;
  core::Nanos upstream_time_{0};
  uint32_t retries_ = 0;
};

}  // namespace fulcrum::proxy
