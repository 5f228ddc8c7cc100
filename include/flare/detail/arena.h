#pragma once
// A bump allocator over chunks of one device's memory. reset() forgets every allocation but
// keeps the chunks, so a graph that is cleared and rebuilt allocates nothing from the system.
#include <cstddef>
#include <vector>

namespace flare {
class Backend;

namespace detail {

class Arena {
 public:
  explicit Arena(Backend& be, size_t first_chunk = size_t(1) << 20) : be_(&be), next_chunk_(first_chunk) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  /// 64-byte aligned memory valid until reset().
  void* alloc(size_t bytes) {
    bytes = (bytes + 63) & ~size_t(63);
    if (cur_ < chunks_.size() && off_ + bytes <= chunks_[cur_].size) {
      void* p = static_cast<char*>(chunks_[cur_].ptr) + off_;
      off_ += bytes;
      return p;
    }
    return alloc_slow(bytes);
  }
  void reset() {
    cur_ = 0;
    off_ = 0;
  }
  /// Bytes held from the system, and bytes in use now.
  size_t capacity() const;
  size_t used() const;

 private:
  struct Chunk {
    void* ptr;
    size_t size;
  };
  void* alloc_slow(size_t bytes);
  Backend* be_;
  std::vector<Chunk> chunks_;
  size_t cur_ = 0, off_ = 0, next_chunk_;
};

}  // namespace detail
}  // namespace flare
