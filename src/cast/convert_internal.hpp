#pragma once
// The scalar reference of every element conversion. The vector kernels must equal it bit for bit;
// tests compare them exhaustively. Rounding is done with integer arithmetic, so the result does
// not depend on the floating-point environment (rounding mode, FTZ/DAZ) of the calling thread.

#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

#include "core/dispatch_internal.hpp"

namespace tb::detail {

template <class T>
inline constexpr bool is_complex_v = false;
template <class T>
inline constexpr bool is_complex_v<std::complex<T>> = true;
template <class T>
inline constexpr bool is_small_float_v = std::is_same_v<T, half> || std::is_same_v<T, bfloat16>;
template <class T>
inline constexpr bool is_int_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

/// The IEEE layout of float and double, for the bit-level rounding below.
template <class F>
struct float_layout;
template <>
struct float_layout<float> {
  using bits = std::uint32_t;
  static constexpr int mantissa = 23, bias = 127;
};
template <>
struct float_layout<double> {
  using bits = std::uint64_t;
  static constexpr int mantissa = 52, bias = 1023;
};

/// `m / 2^s` rounded to nearest, ties to even (any `s >= 0`).
template <class U>
constexpr U shift_round_even(U m, int s) noexcept {
  if (s == 0) return m;
  if (s >= static_cast<int>(sizeof(U) * 8)) return 0;  // m < 2^s / 2 for every caller
  U q = m >> s, r = m & ((U{1} << s) - 1), half_unit = U{1} << (s - 1);
  return q + ((r > half_unit || (r == half_unit && (q & 1))) ? 1 : 0);
}

/// Rounds a float or double to a binary format with `E` exponent and `M` mantissa bits (float16:
/// 5/10, bfloat16: 8/7) and returns its 16 bits: round to nearest, ties to even; overflow to inf;
/// subnormal results and -0.0 kept; NaN stays NaN with the quiet bit set and the top payload bits
/// kept (what the F16C and AVX-512 instructions do).
template <int E, int M, class F>
constexpr std::uint16_t narrow_float_bits(F v) noexcept {
  using L = float_layout<F>;
  using U = typename L::bits;
  constexpr int shift = L::mantissa - M;
  constexpr int bias = (1 << (E - 1)) - 1;
  constexpr U src_inf = U{(U{1} << (sizeof(U) * 8 - 1 - L::mantissa)) - 1} << L::mantissa;
  constexpr std::uint32_t inf = ((1u << E) - 1) << M;
  const U x = std::bit_cast<U>(v);
  const U abs = x & (src_inf | ((U{1} << L::mantissa) - 1));
  const auto sign = static_cast<std::uint16_t>((x >> (sizeof(U) * 8 - 16)) & 0x8000u);
  if (abs > src_inf)  // NaN
    return static_cast<std::uint16_t>(sign | inf | (1u << (M - 1)) |
                                      static_cast<std::uint32_t>((abs >> shift) & ((1u << M) - 1)));
  const int biased = static_cast<int>(abs >> L::mantissa);
  const int e = (biased == 0 ? 1 : biased) - L::bias;  // unbiased exponent
  if (e > bias) return static_cast<std::uint16_t>(sign | inf);
  if (e >= 1 - bias) {  // a normal result: round the mantissa; a carry moves into the exponent
    U rounded = (abs + ((U{1} << (shift - 1)) - 1) + ((abs >> shift) & 1)) >> shift;
    U out = rounded - (U{static_cast<unsigned>(L::bias - bias)} << M);
    return static_cast<std::uint16_t>(sign | (out >= inf ? inf : static_cast<std::uint32_t>(out)));
  }
  // A subnormal result: the value in units of the smallest subnormal, rounded once.
  U mant = (abs & ((U{1} << L::mantissa) - 1)) | (biased == 0 ? U{0} : U{1} << L::mantissa);
  return static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(shift_round_even(mant, shift + (1 - bias - e))));
}

/// float16 bits to float: exact; a signalling NaN becomes quiet (as F16C's vcvtph2ps does).
constexpr float to_float(half h) noexcept {
  std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
  std::uint32_t exp = (h.bits >> 10) & 0x1fu, man = h.bits & 0x3ffu;
  if (exp == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13) | (man ? 0x400000u : 0u));
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
  // zero or subnormal: man * 2^-24 is exact in float
  float mag = static_cast<float>(man) * 5.9604644775390625e-08f;
  return sign ? -mag : mag;
}
/// bfloat16 bits to float: exact; a signalling NaN becomes quiet.
constexpr float to_float(bfloat16 b) noexcept {
  std::uint32_t x = static_cast<std::uint32_t>(b.bits) << 16;
  return std::bit_cast<float>((x & 0x7fffffffu) > 0x7f800000u ? x | 0x400000u : x);
}

/// A double equal to `v`, or for |v| >= 2^53 one whose lowest bit is sticky (set when any
/// dropped bit was), so that rounding it once more to <= 51 bits equals rounding `v` directly.
template <class I>
constexpr double to_double_sticky(I v) noexcept {
  if constexpr (sizeof(I) < 8) {
    return static_cast<double>(v);
  } else {
    std::uint64_t mag = v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    if (mag < (std::uint64_t{1} << 53)) return static_cast<double>(v);
    int drop = std::bit_width(mag) - 53;
    std::uint64_t kept = (mag >> drop) | ((mag & ((std::uint64_t{1} << drop) - 1)) != 0 ? 1u : 0u);
    double d = static_cast<double>(kept << drop);  // 53 significant bits: exact
    return v < 0 ? -d : d;
  }
}

/// 2^n as F (n >= 0).
template <class F>
constexpr F pow2(int n) noexcept {
  F r = 1;
  while (n-- > 0) r *= 2;
  return r;
}

/// float to integer: truncation toward zero when the truncated value fits; otherwise saturation
/// (below the range -> the minimum, above -> the maximum, -inf/+inf likewise) and NaN -> 0.
/// (NumPy leaves these to the CPU: INT_MIN on x86 for int32/int64, garbage for narrower types.)
template <class I, class F>
constexpr I float_to_int(F v) noexcept {
  constexpr F lo = std::is_signed_v<I> ? -pow2<F>(std::numeric_limits<I>::digits) : F{0};
  constexpr F hi = pow2<F>(std::numeric_limits<I>::digits);  // the first value above the range
  if (v != v) return I{0};
  // Values in (lo - 1, lo) truncate to lo == the minimum, so saturating them is the same thing.
  if (v < lo) return std::numeric_limits<I>::min();
  if (v >= hi) return std::numeric_limits<I>::max();
  return static_cast<I>(v);
}

/// True if `v` truncated toward zero is a value of `I` (false for NaN and +-inf).
template <class I, class F>
inline bool float_fits_int(F v) noexcept {
  constexpr F lo = std::is_signed_v<I> ? -pow2<F>(std::numeric_limits<I>::digits) : F{0};
  constexpr F hi = pow2<F>(std::numeric_limits<I>::digits);
  F t = std::trunc(v);
  return t >= lo && t < hi;  // false for NaN
}

/// Converts one element with tensorbridge's documented semantics (see docs/readme/cast.md).
template <class To, class From>
constexpr To convert(From v) noexcept {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_small_float_v<From>) {
    return convert<To>(to_float(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    if constexpr (is_complex_v<From>) return v.real() != 0 || v.imag() != 0;
    else return v != From{};
  } else if constexpr (is_complex_v<From> && !is_complex_v<To>) {
    return convert<To>(v.real());  // the imaginary part is dropped, as NumPy does
  } else if constexpr (is_small_float_v<To>) {
    constexpr int e = std::is_same_v<To, half> ? 5 : 8, m = std::is_same_v<To, half> ? 10 : 7;
    if constexpr (std::is_same_v<From, bool>) return To{narrow_float_bits<e, m>(v ? 1.0f : 0.0f)};
    else if constexpr (std::is_floating_point_v<From>) return To{narrow_float_bits<e, m>(v)};
    else if constexpr (sizeof(From) < 4) return To{narrow_float_bits<e, m>(static_cast<float>(v))};
    else return To{narrow_float_bits<e, m>(to_double_sticky(v))};
  } else if constexpr (is_complex_v<To>) {
    using C = typename To::value_type;
    if constexpr (is_complex_v<From>) return To(static_cast<C>(v.real()), static_cast<C>(v.imag()));
    else return To(static_cast<C>(v), C{0});
  } else if constexpr (is_int_v<To> && std::is_floating_point_v<From>) {
    return float_to_int<To>(v);
  } else {
    return static_cast<To>(v);  // int -> int wraps (modulo 2^N, C++20), int -> float rounds to nearest
  }
}

/// Why converting `v` would lose data, for checked casts.
enum class loss { none, nan, overflow, imaginary };

/// What a checked cast refuses: NaN into an integer (nan); +-inf, out-of-range floats into an
/// integer, integers that do not fit the target integer, and finite values that become +-inf in
/// a narrower float (overflow); a nonzero imaginary part dropped by a complex -> real cast
/// (imaginary). Rounding of a fraction or of low mantissa bits is not a loss.
template <class To, class From>
inline loss check_loss(From v) noexcept {
  if constexpr (std::is_same_v<To, From> || std::is_same_v<To, bool> || std::is_same_v<From, bool>) {
    return loss::none;
  } else if constexpr (is_small_float_v<From>) {
    return check_loss<To>(to_float(v));
  } else if constexpr (is_complex_v<From>) {
    if constexpr (!is_complex_v<To>) {
      if (v.imag() != 0) return loss::imaginary;
      return check_loss<To>(v.real());
    } else {
      loss r = check_loss<typename To::value_type>(v.real());
      return r != loss::none ? r : check_loss<typename To::value_type>(v.imag());
    }
  } else if constexpr (is_int_v<To> && std::is_floating_point_v<From>) {
    if (v != v) return loss::nan;
    return float_fits_int<To>(v) ? loss::none : loss::overflow;
  } else if constexpr (is_int_v<To> && is_int_v<From>) {
    return std::in_range<To>(v) ? loss::none : loss::overflow;
  } else if constexpr (is_complex_v<To>) {
    return check_loss<typename To::value_type>(v);
  } else {  // into a float from an int or a float: overflow when a finite value becomes infinite
    if constexpr (std::is_floating_point_v<From>)
      if (!std::isfinite(v)) return loss::none;
    To out = convert<To>(v);
    if constexpr (is_small_float_v<To>) return std::isinf(to_float(out)) ? loss::overflow : loss::none;
    else return std::isinf(out) ? loss::overflow : loss::none;
  }
}

}  // namespace tb::detail
