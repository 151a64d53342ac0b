// Detecting the delimiter for sep=None (pandas hands that to Python's csv.Sniffer): a delimiter
// appears the same number of times on every line of a well-formed file, outside quotes.

#include <array>

#include "io/csv/converter_internal.hpp"

namespace tb::detail {

char csv_sniff_sep(const csv_source& src, const char* begin, const csv_options& options) {
  constexpr std::array<char, 4> candidates = {',', '\t', ';', '|'};
  constexpr int max_lines = 50;
  std::array<std::int64_t, 4> first{};  // counts on the first line
  std::array<bool, 4> steady{true, true, true, true};
  bool seen = false;  // some candidate on some line
  const char* p = begin;
  const char* const eof = src.eof;
  for (std::int64_t i = 0; i < options.skiprows && p < eof; ++i) {
    while (p < eof && *p != '\n') ++p;
    if (p < eof) ++p;
  }
  int lines = 0;
  bool quoted = false;
  while (p < eof && lines < max_lines) {
    std::array<std::int64_t, 4> count{};
    const char* line = p;
    for (; p < eof && (quoted || (*p != '\n' && *p != '\r')); ++p) {
      if (options.quotechar != '\0' && *p == options.quotechar) quoted = !quoted;
      if (quoted) continue;
      for (std::size_t k = 0; k < candidates.size(); ++k) count[k] += *p == candidates[k];
    }
    while (p < eof && (*p == '\n' || *p == '\r')) ++p;
    if (p - line == 0 || (options.comment != '\0' && *line == options.comment)) continue;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      seen = seen || count[k] > 0;
      if (lines == 0) first[k] = count[k];
      else steady[k] = steady[k] && count[k] == first[k];
    }
    ++lines;
  }
  std::optional<std::size_t> best;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    const char c = candidates[k];
    if (c == options.quotechar || c == options.escapechar || c == options.comment) continue;
    if (steady[k] && first[k] > 0 && (!best || first[k] > first[*best])) best = k;
  }
  if (best) return candidates[*best];
  if (!seen) return ',';  // one column: any delimiter reads it the same
  fail(error_kind::format, src.where, ": sep=None: cannot detect the delimiter; none of ',', '\\t', ';', '|' appears "
       "the same number of times on each of the first ", lines, " lines; pass sep=\",\" (or the delimiter) explicitly");
}

}  // namespace tb::detail
