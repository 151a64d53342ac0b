#pragma once
// The CSV tokenizer: splits rows of a byte range into fields and hands them to a sink. One state
// machine (a template over the sink) serves header parsing, type inference, conversion and the fused
// number-to-matrix path, so that all of them agree on where fields and rows begin and end.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tensorbridge/io/csv.hpp"

namespace tb::detail {

/// Byte classes of the tokenizer.
enum csv_class : std::uint8_t { csv_plain = 0, csv_sep, csv_lf, csv_cr, csv_quote, csv_escape, csv_comment };

/// The parsing rules taken from `csv_options`, with a byte-class table.
struct csv_dialect {
  char sep = ',';
  char quote = '"';   // '\0' = none
  char escape = '\0';
  char comment = '\0';
  bool doublequote = true;
  bool skip_blank_lines = true;
  std::array<std::uint8_t, 256> cls{};

  static csv_dialect from(const csv_options& options);
  std::uint8_t at(char c) const noexcept { return cls[static_cast<unsigned char>(c)]; }
};

/// The whole text being read and its name in messages.
struct csv_source {
  const char* data = nullptr;  // first byte of the buffer (line numbers count from here)
  const char* eof = nullptr;   // one past the last byte
  std::string where;           // the path, or "<string>"
  std::int64_t first_line = 1;  // the line number of `data`
};

/// A field as it appears in the text. `raw` fields contain quotes or escapes and must go through
/// `unescape_field`; others are their bytes.
struct csv_field {
  const char* begin;
  const char* end;
  bool raw;
  std::string_view view() const noexcept { return {begin, static_cast<std::size_t>(end - begin)}; }
};

/// The 1-based line number of `pos`.
std::int64_t csv_line_of(const csv_source& src, const char* pos);

/// Throws `tb::error` (format) "where:line:field: message". `field` is 1-based; 0 leaves it out.
[[noreturn]] void csv_fail(const csv_source& src, const char* pos, std::int64_t field, std::string_view message);

/// The value of a raw field: quotes removed, doubled quotes and escaped bytes made literal.
void unescape_field(const csv_dialect& d, csv_field f, std::string& out);

/// The field's value: its bytes, or (for raw fields) the unescaped text in `scratch`.
inline std::string_view field_text(const csv_dialect& d, csv_field f, std::string& scratch) {
  if (!f.raw) return f.view();
  unescape_field(d, f, scratch);
  return scratch;
}

/// The position of the first byte of the row after the line break at or after `p` (or `eof`).
const char* csv_next_line(const csv_dialect& d, const char* p, const char* eof);

/// The number of '\n' bytes in [begin, end) (16 bytes per step with SSE2).
std::size_t csv_count_line_feeds(const char* begin, const char* end) noexcept;

/// Skips the quoted part of a field: `p` is just after the opening quote. Returns the position after
/// the closing quote; nullptr if the quote does not close before `limit` (a speculative scan that ran
/// too far); fails with "unterminated quote" when it does not close before the end of the text.
const char* csv_skip_quoted(const csv_dialect& d, const csv_source& src, const char* field_begin, const char* p,
                            const char* limit, std::int64_t field_number);

/// The first byte at or after `p` that can end an unquoted field (delimiter, line break, escape or
/// comment character), looking 16 bytes per step; once fewer than 16 bytes remain before `eof`, the
/// position it got to (the caller's byte loop goes on from there). Quotes inside an unquoted field
/// are plain bytes.
inline const char* csv_skip_plain(const csv_dialect& d, const char* p, const char* eof) noexcept {
#if defined(__SSE2__)
  const __m128i sep = _mm_set1_epi8(d.sep);
  const __m128i escape = _mm_set1_epi8(d.escape != '\0' ? d.escape : d.sep);
  const __m128i comment = _mm_set1_epi8(d.comment != '\0' ? d.comment : d.sep);
  while (eof - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, sep), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_or_si128(_mm_cmpeq_epi8(v, escape), _mm_cmpeq_epi8(v, comment))));
    const auto bits = static_cast<unsigned>(_mm_movemask_epi8(special));
    if (bits != 0) return p + __builtin_ctz(bits);
    p += 16;
  }
#else
  (void)d;
  (void)eof;
#endif
  return p;
}

/// Tokenizes the rows that start in [begin, stop) (`begin` must be a row start) and returns the
/// position after the last of them. Returns nullptr if a row runs past `limit` (non-null `limit` only
/// for speculative chunks). Blank lines (when `skip_blank_lines`) and comment lines are skipped.
///
/// The sink provides `void field(std::int64_t index, csv_field f)` and
/// `bool end_row(const char* row_begin, std::int64_t fields)` (false stops after this row).
template <class Sink>
const char* csv_tokenize(const csv_dialect& d, const csv_source& src, const char* begin, const char* stop,
                         const char* limit, Sink& sink) {
  const char* p = begin;
  const char* const eof = src.eof;
  while (p < stop && p < eof) {
    const std::uint8_t first = d.at(*p);
    if (d.skip_blank_lines && (first == csv_lf || first == csv_cr)) {
      p = csv_next_line(d, p, eof);
      continue;
    }
    if (first == csv_comment) {
      p = csv_next_line(d, p, eof);
      continue;
    }
    const char* row_begin = p;
    std::int64_t index = 0;
    for (;;) {
      {
        const char* field_begin = p;
        bool raw = false;
        if (p < eof && d.at(*p) == csv_quote) {
          raw = true;
          p = csv_skip_quoted(d, src, field_begin, p + 1, limit, index + 1);
          if (p == nullptr) return nullptr;
        }
        // Unquoted bytes (and bytes after a closing quote): a quote here is literal, as in pandas.
        p = csv_skip_plain(d, p, eof);
        while (p < eof) {
          const std::uint8_t c = d.at(*p);
          if (c == csv_plain || c == csv_quote) {
            ++p;
          } else if (c == csv_escape) {
            raw = true;
            p = (eof - p >= 2) ? p + 2 : eof;
          } else {
            break;
          }
        }
        sink.field(index, csv_field{field_begin, p, raw});
      }
      ++index;
      if (p >= eof) break;
      const std::uint8_t c = d.at(*p);
      if (c == csv_sep) {
        ++p;
        continue;
      }
      // A line break or a comment ends the row.
      p = csv_next_line(d, p, eof);
      break;
    }
    if (!sink.end_row(row_begin, index)) return p;
  }
  return p;
}

/// Counts rows (the sink of header, skip and batch-end scans).
struct csv_row_counter {
  std::int64_t rows = 0;
  std::int64_t max_rows = INT64_MAX;
  void field(std::int64_t, csv_field) {}
  bool end_row(const char*, std::int64_t) { return ++rows < max_rows; }
};

/// True if `text` is valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace tb::detail
