#pragma once
// The per-instruction-set tables of contiguous cast kernels, and the runtime choice among them.

#include <cstdint>

#include "tensorbridge/cast.hpp"
#include "tensorbridge/dtype.hpp"

namespace tb::detail {

/// Converts `n` contiguous elements from `src` to `dst` (no alignment required, no overlap).
using cast_kernel = void (*)(const void* src, void* dst, std::int64_t n);

/// One kernel for every (from, to) pair, indexed by the dtypes' numbers.
struct cast_kernel_table {
  cast_kernel kernels[dtype_count][dtype_count];
  cast_kernel get(dtype from, dtype to) const noexcept {
    return kernels[static_cast<int>(from)][static_cast<int>(to)];
  }
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
