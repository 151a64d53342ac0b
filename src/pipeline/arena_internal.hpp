#pragma once
// A recycling allocator for batch buffers: a block returns to the arena when the last tensor
// viewing it dies (which, for a batch handed to a framework zero-copy, is whenever the user
// drops it), so steady-state iteration allocates nothing.

#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensorbridge/core/tensor.hpp"

namespace tb::detail {

class batch_arena : public std::enable_shared_from_this<batch_arena> {
 public:
  /// Keeps at most `max_cached` free blocks of each size.
  static std::shared_ptr<batch_arena> create(std::size_t max_cached = 16);
  ~batch_arena();

  /// A new C-contiguous, `buffer_alignment`-aligned tensor, its content uninitialised.
  tensor empty(shape_t shape, tb::dtype dtype);

  /// Blocks handed out and not yet returned (for tests).
  std::int64_t outstanding() const;
  /// Free blocks kept for reuse (for tests).
  std::int64_t cached() const;

 private:
  explicit batch_arena(std::size_t max_cached) : max_cached_(max_cached) {}
  void give_back(std::byte* block, std::size_t size) noexcept;

  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<std::byte*>> free_;
  std::size_t max_cached_;
  std::int64_t outstanding_ = 0;
};

}  // namespace tb::detail
