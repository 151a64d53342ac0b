#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "io/csv/parser_internal.hpp"

namespace tb::detail {

csv_dialect csv_dialect::from(const csv_options& options) {
  csv_dialect d;
  d.sep = options.sep;
  d.quote = options.quotechar;
  d.escape = options.escapechar;
  d.comment = options.comment;
  d.doublequote = options.doublequote;
  d.skip_blank_lines = options.skip_blank_lines;
  d.cls.fill(csv_plain);
  d.cls['\n'] = csv_lf;
  d.cls['\r'] = csv_cr;
  d.cls[static_cast<unsigned char>(d.sep)] = csv_sep;
  if (d.quote != '\0') d.cls[static_cast<unsigned char>(d.quote)] = csv_quote;
  if (d.escape != '\0') d.cls[static_cast<unsigned char>(d.escape)] = csv_escape;
  if (d.comment != '\0') d.cls[static_cast<unsigned char>(d.comment)] = csv_comment;
  return d;
}

std::int64_t csv_line_of(const csv_source& src, const char* pos) {
  // Only runs when reporting an error, so a plain scan is fine. "\r\n" counts once, a lone '\r' too.
  std::int64_t line = src.first_line;
  for (const char* p = src.data; p < pos && p < src.eof; ++p) {
    if (*p == '\n') ++line;
    else if (*p == '\r' && (p + 1 >= src.eof || p[1] != '\n')) ++line;
  }
  return line;
}

void csv_fail(const csv_source& src, const char* pos, std::int64_t field, std::string_view message) {
  if (field > 0) fail(error_kind::format, src.where, ":", csv_line_of(src, pos), ":", field, ": ", message);
  fail(error_kind::format, src.where, ":", csv_line_of(src, pos), ": ", message);
}

void unescape_field(const csv_dialect& d, csv_field f, std::string& out) {
  out.clear();
  const char* p = f.begin;
  const char* end = f.end;
  if (p < end && d.at(*p) == csv_quote) {
    ++p;
    while (p < end) {
      const std::uint8_t c = d.at(*p);
      if (c == csv_escape && p + 1 < end) {
        out.push_back(p[1]);
        p += 2;
      } else if (c == csv_quote) {
        if (d.doublequote && p + 1 < end && p[1] == d.quote) {
          out.push_back(d.quote);
          p += 2;
        } else {
          ++p;
          break;
        }
      } else {
        out.push_back(*p++);
      }
    }
  }
  while (p < end) {
    if (d.at(*p) == csv_escape && p + 1 < end) {
      out.push_back(p[1]);
      p += 2;
    } else {
      out.push_back(*p++);
    }
  }
}

const char* csv_next_line(const csv_dialect& d, const char* p, const char* eof) {
  while (p < eof) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(eof - p)));
    const char* cr = static_cast<const char*>(std::memchr(p, '\r', static_cast<std::size_t>((lf ? lf : eof) - p)));
    if (cr != nullptr) return (cr + 1 < eof && cr[1] == '\n') ? cr + 2 : cr + 1;
    return lf ? lf + 1 : eof;
  }
  return eof;
}

const char* csv_skip_quoted(const csv_dialect& d, const csv_source& src, const char* field_begin, const char* p,
                            const char* limit, std::int64_t field_number) {
  const char* const eof = src.eof;
  const char* scan_end = (limit != nullptr && limit < eof) ? limit : eof;
  for (;;) {
    const char* q;
    if (d.escape == '\0') {
      q = static_cast<const char*>(std::memchr(p, d.quote, static_cast<std::size_t>(std::max<std::ptrdiff_t>(scan_end - p, 0))));
    } else {
      q = p;
      while (q < scan_end && *q != d.quote && *q != d.escape) ++q;
      if (q >= scan_end) q = nullptr;
    }
    if (q == nullptr) {
      if (scan_end < eof) return nullptr;
      csv_fail(src, field_begin, field_number,
               "unterminated quote: the quoted field starting here never closes; check for a missing closing " +
                   std::string(1, d.quote) + " or pass quotechar='\\0' if quotes are not special in this file");
    }
    if (*q == d.escape && d.escape != '\0') {
      p = q + 2;
      if (p > eof) p = eof;
      continue;
    }
    if (d.doublequote && q + 1 < eof && q[1] == d.quote) {
      p = q + 2;
      continue;
    }
    return q + 1;
  }
}

bool is_valid_utf8(std::string_view text) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = s + text.size();
  while (s < end) {
    // ASCII runs are the common case: skip 8 bytes at a time.
    while (end - s >= 8) {
      std::uint64_t w;
      std::memcpy(&w, s, 8);
      if (w & 0x8080808080808080ull) break;
      s += 8;
    }
    if (s >= end) break;
    unsigned char c = *s;
    if (c < 0x80) {
      ++s;
      continue;
    }
    int n;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - s <= n) return false;
    for (int k = 1; k <= n; ++k) {
      if ((s[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    s += n + 1;
  }
  return true;
}

std::size_t csv_count_line_feeds(const char* begin, const char* end) noexcept {
  std::size_t count = 0;
  const char* p = begin;
#if defined(__SSE2__)
  // Each byte lane counts matches down from 0 (a match is -1); the lanes are summed before any can
  // wrap, after at most 255 steps.
  const __m128i feed = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    __m128i lanes = _mm_setzero_si128();
    const char* stop = p + std::min<std::ptrdiff_t>((end - p) / 16, 255) * 16;
    for (; p < stop; p += 16)
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), feed));
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    count += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) + static_cast<std::size_t>(_mm_extract_epi16(sums, 4));
  }
#endif
  return count + static_cast<std::size_t>(std::count(p, end, '\n'));
}

}  // namespace tb::detail
