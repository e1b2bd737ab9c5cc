#pragma once

// Memory for one asynchronous operation at a time, so a recurring operation (a periodic timer)
// allocates nothing: bind its handler with `asio::bind_allocator(HandlerAllocator<int>(memory),
// handler)`, and Asio builds the operation in `memory` rather than on the heap. An operation too
// large for it, or a second one while the first is pending, falls back to the heap.

#include <cstddef>
#include <new>

namespace fulcrum::proxy {

class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= sizeof storage_) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }
  void deallocate(void* pointer) {
    if (pointer == storage_) {
      in_use_ = false;
    } else {
      ::operator delete(pointer);
    }
  }

 private:
  alignas(std::max_align_t) unsigned char storage_[256];
  bool in_use_ = false;
};

template <typename T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory& memory) : memory_(&memory) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U>& other) : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* pointer, std::size_t) { memory_->deallocate(pointer); }

  bool operator==(const HandlerAllocator& other) const { return memory_ == other.memory_; }

 private:
  template <typename>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

}  // namespace fulcrum::proxy
