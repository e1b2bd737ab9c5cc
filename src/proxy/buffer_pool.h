#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace fulcrum::proxy {

/// Fixed-size I/O buffers recycled per worker, so steady-state traffic does not allocate.
/// Worker-local; not thread-safe.
class BufferPool {
 public:
  explicit BufferPool(std::size_t buffer_size) : buffer_size_(buffer_size) {}

  class Lease {
   public:
    Lease() = default;
    Lease(BufferPool* pool, std::unique_ptr<char[]> data) : pool_(pool), data_(std::move(data)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&& other) noexcept {
      give_back();
      pool_ = other.pool_;
      data_ = std::move(other.data_);
      return *this;
    }
    ~Lease() { give_back(); }

    char* data() const { return data_.get(); }
    std::size_t size() const { return pool_->buffer_size_; }
    std::span<char> span() const { return {data_.get(), size()}; }

   private:
    void give_back() {
      if (data_) pool_->free_.push_back(std::move(data_));
    }
    BufferPool* pool_ = nullptr;
    std::unique_ptr<char[]> data_;
  };

  Lease acquire() {
    // Not zero-filled: a page only counts in RSS once written, so an idle keep-alive
    // connection's head buffer costs the page its last request touched, not all of it.
    if (free_.empty()) return Lease(this, std::make_unique_for_overwrite<char[]>(buffer_size_));
    auto data = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(data));
  }

 private:
  std::size_t buffer_size_;
  std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace fulcrum::proxy
