#pragma once
/// @file cast.hpp
/// Dtype conversion: casting rules (NumPy's meaning) and fused copy+cast kernels.

#include <string_view>

#include "tensorbridge/tensor.hpp"

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
void cast_into(const tensor& src, const tensor& dst, const cast_options& options = {});

}  // namespace tb
