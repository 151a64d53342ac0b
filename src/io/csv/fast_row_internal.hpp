#pragma once
// Whole rows of short plain numbers, parsed with SSSE3: the number's shape comes from one 16-byte
// compare (as in `csv_parse_float_short`), then one byte shuffle lines its digits up without the
// sign and the point, and three multiply-adds turn the 16 digit bytes into the integer. Used where
// the CPU has SSSE3 (chosen at run time); other rows and CPUs take the per-field path.

#include <cstdint>

#include "io/csv/number_internal.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TB_CSV_SSSE3_ROWS 1
#endif

namespace tb::detail {

/// Whether matrix rows go through `csv_parse_row_ssse3`: true where the CPU has SSSE3. Tests switch
/// it off to run the per-field path on the same inputs.
bool& csv_ssse3_rows() noexcept;

#if defined(TB_CSV_SSSE3_ROWS)
/// Byte-shuffle masks that gather the digits of a short decimal, by sign (0 or 1), integer digit count
/// and fraction digit count (0..8 each), right-aligned into 16 bytes with zeros before them.
struct csv_digit_gathers {
  std::uint8_t mask[2][9][9][16];
};

inline constexpr csv_digit_gathers csv_make_digit_gathers() {
  csv_digit_gathers g{};
  for (int sign = 0; sign < 2; ++sign) {
    for (int id = 0; id < 9; ++id) {
      for (int fd = 0; fd < 9; ++fd) {
        std::uint8_t* m = g.mask[sign][id][fd];
        for (int k = 0; k < 16; ++k) m[k] = 0x80;  // a zero byte
        const int nd = id + fd;
        if (nd > 15) continue;  // never asked for: 16 bytes hold at most 15 digits with a point
        for (int i = 0; i < nd; ++i)
          m[16 - nd + i] = static_cast<std::uint8_t>(i < id ? sign + i : sign + id + 1 + (i - id));
      }
    }
  }
  return g;
}

inline constexpr csv_digit_gathers csv_digit_gather = csv_make_digit_gathers();

/// Parses one row of `fields` short plain numbers at `p` (a row start), separated by `sep` and ended
/// by "\n", "\r\n" or "\r", into out[0..fields), each correctly rounded as `csv_parse_float_short`
/// rounds it. Returns the next row's start, or nullptr when any field is not such a number or the
/// row is not exactly that (then some of `out` may be written, and the per-field path decides).
template <class T>
__attribute__((target("ssse3"))) const char* csv_parse_row_ssse3(const char* p, const char* eof, char sep,
                                                                  std::int64_t fields, T* out) noexcept {
  for (std::int64_t j = 0; j < fields; ++j) {
    if (eof - p < 16) return nullptr;
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    csv_short_shape s;
    if (!csv_short_shape_of<true>(v, s)) return nullptr;  // a delimiter must follow: checked below
    const __m128i gather =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(csv_digit_gather.mask[s.sign][s.int_digits][s.frac_digits]));
    const __m128i digits = _mm_shuffle_epi8(_mm_sub_epi8(v, _mm_set1_epi8('0')), gather);
    const __m128i pairs = _mm_maddubs_epi16(digits, _mm_set1_epi16(0x010A));          // 10 * a + b
    const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));           // 100 * ab + cd
    const __m128i octs = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x00012710));  // 10^4 * abcd + efgh
    const auto halves = static_cast<std::uint64_t>(_mm_cvtsi128_si64(octs));
    const std::uint64_t m = (halves & 0xFFFFFFFFu) * 100000000u + (halves >> 32);
    if (!csv_round_decimal<T, true>(m, -s.frac_digits, s.sign != 0, out[j])) return nullptr;
    p += s.len;
    if (j + 1 < fields) {
      if (*p != sep) return nullptr;
      ++p;
      continue;
    }
    if (*p == '\n') return p + 1;
    if (*p == '\r') return (p + 1 < eof && p[1] == '\n') ? p + 2 : p + 1;
    return nullptr;
  }
  return nullptr;
}
#endif

}  // namespace tb::detail
