#include "flare/detail/arena.h"

#include "flare/backend.h"

namespace flare::detail {

Arena::~Arena() {
  for (const Chunk& c : chunks_) be_->deallocate(c.ptr, c.size);
}

void* Arena::alloc_slow(size_t bytes) {
  // Move to the next chunk that fits; chunks kept from earlier graphs are reused first.
  while (cur_ + 1 < chunks_.size()) {
    ++cur_;
    off_ = 0;
    if (bytes <= chunks_[cur_].size) {
      off_ = bytes;
      return chunks_[cur_].ptr;
    }
  }
  size_t size = next_chunk_;
  while (size < bytes) size *= 2;
  next_chunk_ = size * 2;  // geometric growth: few chunks however large the graphs get
  chunks_.push_back({be_->allocate(size), size});
  cur_ = chunks_.size() - 1;
  off_ = bytes;
  return chunks_[cur_].ptr;
}

size_t Arena::capacity() const {
  size_t s = 0;
  for (const Chunk& c : chunks_) s += c.size;
  return s;
}

size_t Arena::used() const {
  size_t s = 0;
  for (size_t i = 0; i < cur_ && i < chunks_.size(); ++i) s += chunks_[i].size;
  return s + off_;
}

}  // namespace flare::detail
