#pragma once
/// @file cast.hpp
/// Dtype conversion: casting rules (NumPy's meaning) and fused copy+cast kernels.

#include <string_view>
#include <vector>

#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// Which casts are allowed, with NumPy's meaning of `casting=`.
enum class casting {
  no,         ///< only the identical dtype
  equiv,      ///< identical up to byte order (for tensorbridge, same as `no`)
  safe,       ///< only casts that preserve every value
  same_kind,  ///< safe casts, or casts within a kind (float64 -> float32, int64 -> int8)
  unsafe,     ///< anything
};

/// "no", "equiv", "safe", "same_kind", "unsafe".
std::string_view to_string(casting rule) noexcept;
/// Parses a casting rule name; throws `tb::error` (value) naming the valid ones otherwise.
casting casting_from_name(std::string_view name);

/// True if `rule` allows casting `from` to `to` (agrees with `numpy.can_cast`).
bool can_cast(dtype from, dtype to, casting rule) noexcept;

/// Options of `cast` and `cast_into`.
struct cast_options {
  /// The rule that decides which dtype pairs are allowed. Default: unsafe, like `ndarray.astype`.
  casting rule = casting::unsafe;
  /// Raise instead of losing data: NaN, inf or out-of-range floats into integers, integers that
  /// do not fit a narrower integer, and negative values into unsigned types raise `tb::error`
  /// (overflow, or value for NaN) naming the first bad index and value. Nothing is written to a
  /// destination when a checked cast fails.
  bool checked = false;
  /// Throws `tb::error` (value) if the options are inconsistent.
  void validate() const;
};

/// A new aligned C-contiguous tensor holding `src` converted to `to`, in one pass over `src`
/// (any strides). Throws `tb::error` (type) if `options.rule` refuses the pair.
tensor cast(const tensor& src, dtype to, const cast_options& options = {});

/// Converts `src` into the existing `dst` (same shape; any strides; dtypes may differ).
///
/// - `src` and `dst` may overlap in memory (the source is then copied first).
/// - Throws `tb::error` (value) if the shapes differ, `dst` is read-only or has zero strides
///   (several indices would share one element); (type) if `options.rule` refuses the pair.
/// - With `options.checked`, `dst` is left untouched when the cast fails.
void cast_into(const tensor& src, const tensor& dst, const cast_options& options = {});

namespace detail {

/// The instruction sets the cast kernels are compiled for, worst first.
enum class cast_target {
  scalar,  ///< the portable kernels (the build's baseline; NEON on aarch64)
  avx2,    ///< x86-64 AVX2 + FMA + F16C
  avx512,  ///< x86-64 AVX-512 F/BW/DQ/VL + F16C
};

/// "scalar", "avx2", "avx512".
std::string_view to_string(cast_target target) noexcept;

/// Parses "scalar", "avx2", "avx512"; throws `tb::error` (value) naming the valid ones otherwise.
cast_target cast_target_from_name(std::string_view name);

/// The targets that are compiled in and that this CPU can run, worst first.
std::vector<cast_target> available_cast_targets();

/// Makes later casts use the kernels of `target` (tests use it to run every target). Throws
/// `tb::error` (value) if `target` is not in `available_cast_targets()`.
void set_cast_target(cast_target target);

/// The target in use: the last of `available_cast_targets()` unless `set_cast_target` chose another.
cast_target active_cast_target() noexcept;

}  // namespace detail

}  // namespace tb
