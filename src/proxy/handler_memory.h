#pragma once

// Memory for one asynchronous operation at a time, so a recurring operation (a periodic timer, a
// session's reads and sends) allocates nothing: bind its completion token with
// `asio::bind_allocator(HandlerAllocator<int, Size>(memory), token)`, and Asio builds the
// operation in `memory` rather than on the heap or in its small per-thread cache. An operation too
// large for it, or a second one while the first is pending, falls back to the heap.

#include <cstddef>
#include <new>

namespace fulcrum::proxy {

template <std::size_t Size = 256>
class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= Size) {
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
  alignas(std::max_align_t) unsigned char storage_[Size];
  bool in_use_ = false;
};

template <typename T, std::size_t Size = 256>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory<Size>& memory) : memory_(&memory) {}
  template <typename U>
  HandlerAllocator(const HandlerAllocator<U, Size>& other) : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* pointer, std::size_t) { memory_->deallocate(pointer); }

  bool operator==(const HandlerAllocator& other) const { return memory_ == other.memory_; }

  // Asio rebinds the allocator to its operation types.
  template <typename U>
  struct rebind {
    using other = HandlerAllocator<U, Size>;
  };

 private:
  template <typename, std::size_t>
  friend class HandlerAllocator;
  HandlerMemory<Size>* memory_;
};

}  // namespace fulcrum::proxy
