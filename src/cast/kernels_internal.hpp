#pragma once
// The per-instruction-set tables of contiguous cast kernels, and the runtime choice among them.

#include <cstddef>
#include <cstdint>

#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/dtype.hpp"

namespace tb::detail {

/// Converts `n` contiguous elements from `src` to `dst` (no alignment required, no overlap).
using cast_kernel = void (*)(const void* src, void* dst, std::int64_t n);

/// Copies `n` elements of one size from `src`, `step` bytes apart (any sign), to dense `dst`
/// (no alignment required, no overlap). The strided driver gathers an L1-sized tile with it and
/// then runs the contiguous cast kernel on the tile.
using gather_kernel = void (*)(const std::byte* src, std::int64_t step, std::byte* dst, std::int64_t n);

/// Writes 8 columns of `n` 4-byte elements, column c dense at `panel + c * n * 4`, as the first 32
/// bytes of `n` rows `row_bytes` apart from `rows` (no alignment required, no overlap): the
/// transposing cast's scatter of eight converted columns into a tile of whole rows, 8 x 8 blocks
/// transposed in registers instead of one 4-byte store per element.
using transpose8_kernel = void (*)(const std::byte* panel, std::int64_t n, std::byte* rows, std::size_t row_bytes);

/// The element sizes `gather_kernel`s exist for: 1, 2, 4, 8 and 16 bytes.
inline constexpr int gather_sizes = 5;

/// One kernel for every (from, to) pair, indexed by the dtypes' numbers, and one gather per
/// element size.
struct cast_kernel_table {
  cast_kernel kernels[dtype_count][dtype_count];
  /// Kernels that read every second element of `src` (x[..., ::2], the most common strided view)
  /// and write `n` dense elements: one fused pass where the gather + kernel path makes three.
  /// Null for the pairs whose contiguous kernel is hand-written (the strided driver then gathers).
  cast_kernel every_other[dtype_count][dtype_count];
  gather_kernel gathers[gather_sizes];  // indexed by log2 of the element size
  transpose8_kernel transpose8;          // 4-byte elements
  cast_kernel get(dtype from, dtype to) const noexcept {
    return kernels[static_cast<int>(from)][static_cast<int>(to)];
  }
  cast_kernel get_every_other(dtype from, dtype to) const noexcept {
    return every_other[static_cast<int>(from)][static_cast<int>(to)];
  }
  /// The gather for elements of `itemsize` bytes (a power of two up to 16).
  gather_kernel gather(std::size_t itemsize) const noexcept { return gathers[__builtin_ctzll(itemsize)]; }
};

/// The portable kernels (the baseline instruction set of the build; on aarch64 that includes NEON).
const cast_kernel_table& scalar_cast_kernels();
#if defined(__x86_64__) || defined(_M_X64)
/// AVX2 + FMA + F16C kernels; call only where the CPU has them.
const cast_kernel_table& avx2_cast_kernels();
/// AVX-512 F/BW/DQ/VL kernels (+ F16C); call only where the CPU has them.
const cast_kernel_table& avx512_cast_kernels();
#endif

/// The table of the active target (see `set_cast_target`).
const cast_kernel_table& active_cast_kernels() noexcept;

}  // namespace tb::detail
