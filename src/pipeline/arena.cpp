#include "pipeline/arena_internal.hpp"

#include <cstdlib>

namespace tb::detail {
namespace {

std::size_t round_up(std::size_t nbytes) {
  return (std::max<std::size_t>(nbytes, 1) + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
}

}  // namespace

std::shared_ptr<batch_arena> batch_arena::create(std::size_t max_cached) {
  return std::shared_ptr<batch_arena>(new batch_arena(max_cached));
}

batch_arena::~batch_arena() {
  for (auto& [size, blocks] : free_)
    for (std::byte* b : blocks) std::free(b);
}

tensor batch_arena::empty(shape_t shape, tb::dtype dtype) {
  std::size_t nbytes = tb::itemsize(dtype);
  for (auto d : shape) nbytes *= static_cast<std::size_t>(d);
  const std::size_t size = round_up(nbytes);
  std::byte* block = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      block = it->second.back();
      it->second.pop_back();
    }
    ++outstanding_;
  }
  if (block == nullptr) {
    block = static_cast<std::byte*>(std::aligned_alloc(buffer_alignment, size));
    if (block == nullptr) {
      std::lock_guard lock(mutex_);
      --outstanding_;
      fail(error_kind::value, "out of memory: cannot allocate a batch buffer of ", size, " bytes");
    }
  }
  // The block outlives the arena if a framework still holds the batch: the weak pointer lets
  // the deleter free it directly then.
  std::weak_ptr<batch_arena> owner = weak_from_this();
  auto release = [owner, block, size] {
    if (auto arena = owner.lock()) arena->give_back(block, size);
    else std::free(block);
  };
  auto store = storage::wrap(block, size, std::move(release));
  shape_t strides = tensor::contiguous_strides(shape);
  return tensor(std::move(store), dtype, std::move(shape), std::move(strides));
}

void batch_arena::give_back(std::byte* block, std::size_t size) noexcept {
  std::lock_guard lock(mutex_);
  --outstanding_;
  try {
    auto& blocks = free_[size];
    if (blocks.size() < max_cached_) {
      blocks.push_back(block);
      return;
    }
  } catch (...) {  // no memory for the free list: fall through and free the block
  }
  std::free(block);
}

std::int64_t batch_arena::outstanding() const {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

std::int64_t batch_arena::cached() const {
  std::lock_guard lock(mutex_);
  std::int64_t n = 0;
  for (auto& [size, blocks] : free_) n += static_cast<std::int64_t>(blocks.size());
  return n;
}

}  // namespace tb::detail
