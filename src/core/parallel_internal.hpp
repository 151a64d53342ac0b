#pragma once
// Fork-join parallel loops over a lazily started, reused pool of threads.

#include <cstdint>
#include <functional>

namespace tb::detail {

/// Runs `body(begin, end)` over [0, n) split into at most `num_threads()` contiguous chunks of at
/// least `min_chunk` items; the calling thread runs one chunk. The first exception thrown by any
/// chunk is rethrown here after every chunk has finished. Calls made from a pool thread run
/// serially (no nested parallelism, so no deadlock).
void parallel_for(std::int64_t n, std::int64_t min_chunk,
                  const std::function<void(std::int64_t begin, std::int64_t end)>& body);

}  // namespace tb::detail
