#pragma once
// CSV number parsing, correctly rounded for float and double alike (one rounding from the decimal):
// - `csv_parse_float_short`: short plain decimals ("-12.345": at most 8 digits on each side of the
//   point), shape found with one 16-byte compare, digits converted 8 at a time (SWAR), exact by
//   Clinger's rule (with a float shortcut, see `csv_round_decimal`);
// - `csv_parse_float`: everything else (long mantissas, exponents, subnormals, "inf", "nan") through
//   fast_float: Eisel-Lemire for up to 19 significant digits, an exact digit comparison beyond or
//   in the rare ambiguous cases. It is exact for every input and, measured here, as fast as or
//   faster than libstdc++'s from_chars (which embeds the same algorithm behind a call).

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include <fast_float/fast_float.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tb::detail {

/// Powers of ten that are exact in a double (10^0 .. 10^22).
inline constexpr double csv_pow10_double[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                              1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
/// The doubles nearest 10^0 .. 10^-22 (inexact from 10^-1 on).
inline constexpr double csv_inv_pow10_double[] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                                                  1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                                                  1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};
/// Powers of ten as integers (10^0 .. 10^8), for joining digit groups.
inline constexpr std::uint64_t csv_pow10_u64[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/// The value of the first `n` (0..8) digits of `v` (ASCII, first byte in the low bits).
inline std::uint64_t csv_digits_value(std::uint64_t v, int n) noexcept {
  // Subtracting '0' cannot borrow across the first n bytes (all >= '0'); bytes after them are shifted
  // out, so the n digits become the low-order digits of an 8-digit number with leading zeros. Two
  // half shifts, because n == 0 needs a shift by 64 (undefined as one shift).
  const int half = 4 * (8 - n);
  std::uint64_t d = ((v - 0x3030303030303030ull) << half) << half;
  d = (d * 10) + (d >> 8);
  d = (((d & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
       (((d >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
      32;
  return d;
}

/// Rounds `m * 10^exponent` (m <= 2^53, |exponent| <= 22: exact operands, one IEEE rounding) to T
/// and stores it with the sign; false (nothing stored) when a float result needs the general parser.
///
/// For float, the double result is rounded once more; that equals rounding the decimal once unless
/// the double lies exactly halfway between two floats (then this defers), or is subnormal or out of
/// range as a float (deferred as well): a float midpoint strictly between the decimal and its nearest
/// double would itself be a closer double. `in_float_range` says the caller knows the result is 0 or
/// a normal float.
///
/// For float, a negative exponent first multiplies by the double nearest 10^-k instead of dividing:
/// two roundings put that product within 2 ulps of the exact quotient, so unless it lies within 4
/// ulps of a float midpoint (bits checked below), it rounds to the same float as the quotient does.
/// Near a midpoint the exact division decides, as for double.
template <class T, bool in_float_range = false>
inline bool csv_round_decimal(std::uint64_t m, int exponent, bool negative, T& out) noexcept {
  constexpr std::uint64_t below_float = (std::uint64_t{1} << 29) - 1;  // double bits under a float's last
  constexpr std::uint64_t float_midpoint = std::uint64_t{1} << 28;
  double d = static_cast<double>(m);
  if constexpr (std::is_same_v<T, float>) {
    if (exponent < 0) {
      const double product = d * csv_inv_pow10_double[-exponent];
      const std::uint64_t low = std::bit_cast<std::uint64_t>(product) & below_float;
      d = low - (float_midpoint - 4) <= 8 ? d / csv_pow10_double[-exponent] : product;
    } else if (exponent > 0) {
      d *= csv_pow10_double[exponent];
    }
  } else {
    if (exponent < 0) d /= csv_pow10_double[-exponent];
    else if (exponent > 0) d *= csv_pow10_double[exponent];
  }
  if constexpr (std::is_same_v<T, float>) {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(d);
    if ((bits & below_float) == float_midpoint) return false;  // a float midpoint
    if constexpr (!in_float_range) {
      if (d != 0 && (d < 1.2e-38 || d > 3.4e38)) return false;  // subnormal or overflowing as a float
    }
  }
  out = static_cast<T>(negative ? -d : d);
  return true;
}

/// The value of the `k` (0..8) ASCII digits at `q`; reads 8 bytes from `q`.
inline std::uint64_t csv_digits_at(const char* q, int k) noexcept {
  std::uint64_t v;
  std::memcpy(&v, q, 8);
  return csv_digits_value(v, k);
}

/// Whether `csv_parse_float_short` is compiled (it needs SSE2 and a little-endian machine).
#if defined(__SSE2__)
inline constexpr bool csv_has_short_parser = std::endian::native == std::endian::little;
#else
inline constexpr bool csv_has_short_parser = false;
#endif

#if defined(__SSE2__)
/// Where the parts of a short plain decimal are in 16 loaded bytes: an optional '-' (`sign`), at most
/// 8 digits, an optional '.' (at `int_end`, else `int_end == len`) and at most 8 digits, `len` bytes
/// in all, ending within the 16 bytes.
struct csv_short_shape {
  int len, sign, int_end, int_digits, frac_digits;
};

/// The shape of the short plain decimal that starts the 16 bytes `v`; false for anything else (no
/// digits, more than 8 digits on a side, an exponent or '+', a second '.' or '-', no end in sight).
/// With `stop_at_exponent`, an 'e', 'E' or '+' ends the number like any other byte (the caller then
/// finds no delimiter there and gives up), which saves the compares that look for them.
///
/// Where the number ends is found from one 16-byte compare, before any digit is converted, so that
/// the next field's parse does not wait for this one's digits. Every such number is exact by
/// Clinger's rule: at most 15 digits fit in 16 bytes (below 10^15 < 2^53), at most 8 of them
/// fraction digits (10^8 <= 10^22).
template <bool stop_at_exponent = false>
[[gnu::always_inline]] inline bool csv_short_shape_of(__m128i v, csv_short_shape& s) noexcept {
  const __m128i t = _mm_sub_epi8(v, _mm_set1_epi8('0'));
  const __m128i digit = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t);
  const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
  const __m128i minus = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
  __m128i number = _mm_or_si128(_mm_or_si128(digit, dot), minus);
  __m128i other = _mm_setzero_si128();
  if constexpr (!stop_at_exponent) {
    other = _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8('e')),
                         _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
    number = _mm_or_si128(number, other);
  }
  const unsigned stop = ~static_cast<unsigned>(_mm_movemask_epi8(number)) & 0xFFFFu;
  if (stop == 0) return false;
  s.len = std::countr_zero(stop);
  const unsigned within = (1u << s.len) - 1;
  const auto minus_bits = static_cast<unsigned>(_mm_movemask_epi8(minus)) & within;
  const auto dot_bits = static_cast<unsigned>(_mm_movemask_epi8(dot)) & within;
  if constexpr (!stop_at_exponent) {
    if ((static_cast<unsigned>(_mm_movemask_epi8(other)) & within) != 0) return false;
  }
  if ((minus_bits & ~1u) != 0 || (dot_bits & (dot_bits - 1)) != 0) return false;
  s.sign = static_cast<int>(minus_bits);
  s.int_end = dot_bits != 0 ? std::countr_zero(dot_bits) : s.len;
  s.int_digits = s.int_end - s.sign;
  s.frac_digits = dot_bits != 0 ? s.len - s.int_end - 1 : 0;
  return s.int_digits + s.frac_digits != 0 && s.int_digits <= 8 && s.frac_digits <= 8;
}
#endif

/// Parses a short plain decimal at `p` (see `csv_short_shape_of`), correctly rounded; `p` must have
/// 32 readable bytes. Returns the end of the number, or nullptr for anything else (then
/// `csv_parse_float` decides). The digits are converted 8 at a time (SWAR).
template <class T>
inline const char* csv_parse_float_short(const char* p, T& out) noexcept {
#if defined(__SSE2__)
  if constexpr (csv_has_short_parser) {
    csv_short_shape s;
    if (!csv_short_shape_of(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), s)) return nullptr;
    const std::uint64_t m = csv_digits_at(p + s.sign, s.int_digits) * csv_pow10_u64[s.frac_digits] +
                            csv_digits_at(p + s.int_end + 1, s.frac_digits);
    // 0 or in [1e-8, 1e15): a normal float if not zero.
    if (!csv_round_decimal<T, true>(m, -s.frac_digits, s.sign != 0, out)) return nullptr;
    return p + s.len;
  }
#endif
  (void)p;
  (void)out;
  return nullptr;
}

#if defined(__SSE2__)
/// Bit i set where byte i of the 32 bytes at `p` is an ASCII digit.
inline std::uint32_t csv_digit_mask32(const char* p) noexcept {
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i nine = _mm_set1_epi8(9);
  const auto digits = [&](const char* q) {
    const __m128i t = _mm_sub_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)), zero);
    return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, nine), t)));
  };
  return digits(p) | (digits(p + 16) << 16);
}
#endif

/// The value of the `n` (1..20) ASCII digits at `q`, read 8 at a time; false when it exceeds
/// 2^64 - 1 (only 20 digits can). Reads the bytes [q, q + max(n, 8)).
inline bool csv_digits_u64(const char* q, int n, std::uint64_t& out) noexcept {
  if (n <= 8) {
    out = csv_digits_at(q, n);
    return true;
  }
  if (n <= 16) {
    out = csv_digits_at(q, n - 8) * 100000000u + csv_digits_at(q + n - 8, 8);
    return true;
  }
  const std::uint64_t low = csv_digits_at(q + n - 16, 8) * 100000000u + csv_digits_at(q + n - 8, 8);
  std::uint64_t high;
  if (__builtin_mul_overflow(csv_digits_at(q, n - 16), std::uint64_t{10000000000000000}, &high)) return false;
  return !__builtin_add_overflow(high, low, &out);
}

/// The end of the plain decimal integer at `p` (an optional '-', then 1 to 20 digits), found in one
/// 32-byte compare; nullptr when there is no digit or more than 20. What follows the digits is not
/// looked at. `p` must have 32 readable bytes.
inline const char* csv_integer_end(const char* p) noexcept {
#if defined(__SSE2__)
  if constexpr (csv_has_short_parser) {
    const int sign = *p == '-' ? 1 : 0;
    const int n = std::countr_one(csv_digit_mask32(p) >> sign);
    return n == 0 || n > 20 ? nullptr : p + sign + n;
  }
#endif
  (void)p;
  return nullptr;
}

/// The magnitude of the integer [p, end) that `csv_integer_end` found, 8 digits at a time (SWAR);
/// false when it exceeds 2^64 - 1.
inline bool csv_integer_magnitude(const char* p, const char* end, std::uint64_t& out) noexcept {
  const char* q = p + (*p == '-' ? 1 : 0);
  return csv_digits_u64(q, static_cast<int>(end - q), out);
}

/// Parses a plain decimal integer at `p` (see `csv_integer_end`; up to 2^64 - 1) that is not followed
/// by '.', 'e' or 'E' as T, correctly rounded: the integer is exact, so converting it is the one
/// rounding. Returns the end of the number, or nullptr for anything else (then `csv_parse_float`
/// decides). `p` must have 32 readable bytes. fast_float reads integer digits one at a time; this
/// reads them 8 at a time.
template <class T>
inline const char* csv_parse_integer_float(const char* p, T& out) noexcept {
  const char* end = csv_integer_end(p);
  std::uint64_t m;
  if (end == nullptr || *end == '.' || (*end | 0x20) == 'e' || !csv_integer_magnitude(p, end, m)) return nullptr;
  const T v = static_cast<T>(m);
  out = *p == '-' ? -v : v;
  return end;
}

/// Parses a plain decimal integer at `p` (see `csv_integer_end`) as an int64; returns the end of its
/// digits, or nullptr when there is none or the value is beyond int64 (then `std::from_chars`
/// decides). `p` must have 32 readable bytes.
inline const char* csv_parse_int64(const char* p, std::int64_t& out) noexcept {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const bool negative = *p == '-';
  const char* end = csv_integer_end(p);
  std::uint64_t m;
  if (end == nullptr || !csv_integer_magnitude(p, end, m) || m > max + (negative ? 1 : 0)) return nullptr;
  out = static_cast<std::int64_t>(negative ? 0 - m : m);  // modular: -2^63 included
  return end;
}

/// Parses the number at `p` as `std::from_chars` would (same grammar: '-', digits, '.', exponent,
/// "inf", "infinity", "nan", "nan(...)"; no '+'), correctly rounded to T; values beyond T's range
/// become +-inf and those below its smallest subnormal +-0, as pandas reads them. Returns the end
/// of the number, or nullptr when `p` does not start one.
template <class T>
inline const char* csv_parse_float(const char* p, const char* eof, T& out) noexcept {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
  if (p == eof) return nullptr;
  // fast_float 3.x gives +-inf / +-0 with no error; later versions flag them out of range, still
  // storing the value.
  const auto [end, ec] = fast_float::from_chars(p, eof, out);
  if (ec != std::errc{} && ec != std::errc::result_out_of_range) return nullptr;
  return end;
}

}  // namespace tb::detail
