#pragma once

// Asio builds each socket and timer operation in memory from a small per-thread cache of freed
// blocks (ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE of them, set in CMakeLists.txt), and takes the first
// cached block large enough. The cache starts empty and grows block by block, each the size of
// the operation that missed; a small operation may take a large block, so under load, when more
// operations of mixed sizes are pending at once than during the warm-up, a large one can find
// only small blocks free, and goes to the heap (seen as 2-8 allocations per 5,000 requests on a
// loaded machine). Filling the cache up front with blocks of the largest size it keeps makes
// every block fit every operation: as long as no more operations are pending on a worker than
// the cache holds, none allocates. (Beyond that, per connection operation memory is the answer;
// docs/ARCHITECTURE.md.)
//
// Relies on Asio's internal thread_info_base (Debian 12's Asio 1.22): revisit on an upgrade.

#include <asio/detail/thread_context.hpp>
#include <asio/detail/thread_info_base.hpp>
#include <climits>

#if defined(ASIO_HAS_IO_URING)
#define ASIO_HAS_IO_URING_DEFINED 1
#else
#define ASIO_HAS_IO_URING_DEFINED 0
#endif

namespace fulcrum::proxy {

/// Call on the worker thread, from inside io_context::run() (a posted handler): the cache
/// belongs to the thread running the io_context.
inline void prime_operation_cache() {
  using asio::detail::thread_info_base;
  thread_info_base* const this_thread = asio::detail::thread_context::top_of_thread_call_stack();
  if (this_thread == nullptr) return;
  // The largest block the cache keeps: a block records its size in one byte, in chunks of 4 bytes
  // (thread_info_base::chunk_size, private; 8 only with io_uring, which this build does not use).
  static_assert(!ASIO_HAS_IO_URING_DEFINED, "chunk_size is 8 with io_uring");
  constexpr std::size_t kLargest = 4 * UCHAR_MAX;
  void* blocks[ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE];
  for (void*& block : blocks) {
    block = thread_info_base::allocate(thread_info_base::default_tag(), this_thread, kLargest);
  }
  for (void* block : blocks) {
    thread_info_base::deallocate(thread_info_base::default_tag(), this_thread, block, kLargest);
  }
}

}  // namespace fulcrum::proxy
