#pragma once
/// @file block_cache.hpp
/// The cache of freed large tensor buffers that `storage::allocate` reuses.
///
/// A new buffer costs more than the work done in it: the kernel maps its pages on first touch
/// and zeroes each one (a fresh 64 MiB cast output spends most of its time there). Like the
/// caching allocators of PyTorch (GPU) and TensorFlow (BFC), tensorbridge keeps freed owned
/// blocks of at least `block_cache_min_bytes` and hands them out again, so a training loop that
/// casts or reads a batch of the same size every step reuses memory that is already mapped.
///
/// - Only blocks that tensorbridge allocated are cached; foreign memory (NumPy arrays, torch
///   tensors, memory maps) is released by its owner as before.
/// - Blocks are grouped by size class (four per power of two, so a request reuses a block at most
///   25% larger) and the total is bounded: when a freed block does not fit, the least recently
///   freed blocks are returned to the system first. A block larger than the bound is never kept.
/// - The bound defaults to `default_block_cache_limit`; the `TB_BLOCK_CACHE_BYTES` environment
///   variable (a byte count with an optional K, M or G suffix, e.g. `512M`; `0` disables the
///   cache) overrides it when the first large block is allocated, and `set_block_cache_limit`
///   overrides both at any time.
/// - Cached blocks are not live storages: `storage::live_count()` counts tensors' storages only.
/// - Thread-safe, and safe across `fork()`.

#include <cstddef>
#include <cstdint>

namespace tb {

/// Freed owned blocks smaller than this many bytes go straight back to `free` (malloc's own
/// free lists already serve small sizes well).
inline constexpr std::size_t block_cache_min_bytes = std::size_t{1} << 20;

/// The default bound on the bytes the cache holds: 1 GiB.
inline constexpr std::size_t default_block_cache_limit = std::size_t{1} << 30;

/// The bound, in bytes, on the freed blocks kept for reuse (0: the cache is disabled).
/// Reads `TB_BLOCK_CACHE_BYTES` on first use; throws `tb::error` (value) if that variable is not
/// a byte count.
std::size_t block_cache_limit();

/// Sets the bound in bytes (0 disables the cache) and releases the least recently freed blocks
/// until the cache holds at most `bytes`. Overrides `TB_BLOCK_CACHE_BYTES`.
void set_block_cache_limit(std::size_t bytes);

/// Returns every cached block to the system (the bound is unchanged).
void clear_block_cache();

/// A snapshot of the cache's counters.
struct block_cache_stats {
  std::size_t limit = 0;          ///< the bound, in bytes (0: disabled)
  std::size_t cached_bytes = 0;   ///< bytes held in cached blocks right now
  std::size_t cached_blocks = 0;  ///< number of blocks held right now
  std::uint64_t hits = 0;         ///< allocations served by a cached block since the process started
  std::uint64_t misses = 0;       ///< cacheable allocations that found no block of their size class
};

/// The cache's counters now (for tests, benchmarks and diagnostics).
block_cache_stats block_cache_statistics();

}  // namespace tb
