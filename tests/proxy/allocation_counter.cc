#include "tests/proxy/allocation_counter.h"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace fulcrum::proxy::testing {
namespace {

std::atomic<bool> counting{false};
std::atomic<uint64_t> worker_allocations{0};
std::atomic<uint64_t> other_allocations{0};

bool on_worker_thread() {
  char name[16] = {};
  // For the calling thread glibc reads the name with prctl(): no allocation, so no recursion.
  if (::pthread_getname_np(::pthread_self(), name, sizeof name) != 0) return false;
  return std::strncmp(name, "fulcrum-w", 9) == 0;
}

void count_allocation() {
  if (!counting.load(std::memory_order_relaxed)) return;
  (on_worker_thread() ? worker_allocations : other_allocations)
      .fetch_add(1, std::memory_order_relaxed);
}

void* allocate(std::size_t size) {
  count_allocation();
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_aligned(std::size_t size, std::align_val_t align) {
  count_allocation();
  const auto alignment = static_cast<std::size_t>(align);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = (size + alignment - 1) / alignment * alignment;
  return std::aligned_alloc(alignment, rounded == 0 ? alignment : rounded);
}

}  // namespace

void start_counting_allocations() {
  worker_allocations.store(0);
  other_allocations.store(0);
  counting.store(true);
}

AllocationCounts stop_counting_allocations() {
  counting.store(false);
  return {worker_allocations.load(), other_allocations.load()};
}

}  // namespace fulcrum::proxy::testing

using fulcrum::proxy::testing::allocate;
using fulcrum::proxy::testing::allocate_aligned;

void* operator new(std::size_t size) {
  if (void* p = allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  if (void* p = allocate(size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  if (void* p = allocate_aligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t align) {
  if (void* p = allocate_aligned(size, align)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocate_aligned(size, align);
}

void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
