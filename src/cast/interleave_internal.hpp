#pragma once
// The transposing cast: columns into the rows of one matrix (a table's `to_tensor`).

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensorbridge/core/dtype.hpp"

namespace tb::detail {

/// Outputs of at least this many bytes are written with non-temporal stores: they would not stay
/// in cache anyway, and streaming skips the read-for-ownership of every destination line. Smaller
/// outputs (a batch of a few MiB cast into a reused buffer) stay in a last-level cache of this
/// size and are written normally: streaming them out lost 4x to torch's cached stores.
inline constexpr std::size_t stream_threshold = std::size_t{32} << 20;

/// One column read by `interleave_cast`: row r is the element of type `from` at `data + r * step`
/// bytes (any sign of `step`).
struct interleave_source {
  const std::byte* data;  ///< row 0
  std::int64_t step;      ///< bytes from one row to the next
  dtype from;             ///< the element type
};

/// Casts rows [r0, r1) of every source, unchecked (the caller applies the casting rule first),
/// into rows [r0, r1) of a C-contiguous matrix of `to` whose row 0 is at `dst` and which has one
/// column per source.
///
/// Tile by tile of rows small enough for L1: each column is cast with the active contiguous
/// kernel into a column block and scattered into the tile of whole rows, and the tile is written
/// out as one contiguous run, with non-temporal stores when `stream` (then fenced before return).
/// The next tile's source lines are prefetched while one is converted. Single-threaded: the
/// caller splits the rows among threads.
void interleave_cast(std::span<const interleave_source> sources, dtype to, std::int64_t r0, std::int64_t r1,
                     std::byte* dst, bool stream);

}  // namespace tb::detail
