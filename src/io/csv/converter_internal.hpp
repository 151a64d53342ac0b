#pragma once
// Turning CSV fields into values: missing-value detection, number and bool parsing, per-column type
// inference, and the sinks the tokenizer feeds (inference, typed columns, one fused number matrix).

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "io/csv/fast_row_internal.hpp"
#include "io/csv/number_internal.hpp"
#include "io/csv/parser_internal.hpp"

namespace tb::detail {

/// The columns of a CSV file and which of them are read, decided from the header and the options.
struct csv_layout {
  std::int64_t file_columns = 0;                      // fields per row in the file
  std::vector<std::int64_t> out_of_file;              // file column -> output column, or -1 (not read)
  std::vector<std::int64_t> file_of_out;              // output column -> file column
  std::vector<std::string> names;                     // output column names
  std::vector<std::optional<csv_column_type>> types;  // given type per output column, or none (infer)
  const char* data_begin = nullptr;                   // the first data row
  bool ragged_hint_header = false;                    // the widths came from a header row
};

/// The strings read as missing values.
class csv_na_set {
 public:
  explicit csv_na_set(const csv_options& options);
  bool contains(std::string_view s) const {
    if (s.empty()) return empty_is_na_;
    // Most fields start with a byte no missing-value string starts with: no hashing for them.
    return s.size() <= max_length_ && first_[static_cast<unsigned char>(s.front())] && set_.count(s) != 0;
  }
  /// True if some missing-value string reads as a number other than NaN, so numbers must be checked
  /// against the set before they are taken as numbers.
  bool has_numeric() const noexcept { return has_numeric_; }

 private:
  std::vector<std::string> storage_;
  std::unordered_set<std::string_view> set_;  // views into storage_
  std::size_t max_length_ = 0;
  std::array<bool, 256> first_{};  // bytes that some (non-empty) missing-value string starts with
  bool empty_is_na_ = false;
  bool has_numeric_ = false;
};

/// Result of parsing one number.
enum class csv_parse_status { ok, invalid, overflow };

/// `s` without leading and trailing spaces and tabs.
inline std::string_view csv_trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Parses a whole field as a number of type T (blanks around it and a leading '+' allowed; floats
/// also take inf/infinity/nan in any case, and overflow to +-inf as pandas does).
template <class T>
csv_parse_status csv_parse_number(std::string_view s, T& out) {
  s = csv_trim(s);
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') {
    ++b;
    if (b < e && (*b == '-' || *b == '+')) return csv_parse_status::invalid;
  }
  if (b == e) return csv_parse_status::invalid;
  if constexpr (std::is_floating_point_v<T>) {
    return csv_parse_float(b, e, out) == e ? csv_parse_status::ok : csv_parse_status::invalid;
  } else {
    auto [ptr, ec] = std::from_chars(b, e, out);
    if (ptr != e) return csv_parse_status::invalid;
    if (ec == std::errc::result_out_of_range) return csv_parse_status::overflow;
    return ec == std::errc{} ? csv_parse_status::ok : csv_parse_status::invalid;
  }
}

/// Parses True/TRUE/true and False/FALSE/false (pandas' defaults).
inline bool csv_parse_bool(std::string_view s, bool& out) noexcept {
  s = csv_trim(s);
  if (s == "True" || s == "TRUE" || s == "true") return out = true, true;
  if (s == "False" || s == "FALSE" || s == "false") return out = false, true;
  return false;
}

/// Parses a number equal to 1 or 0 ("1", "0", "1.0") as a bool: an explicit bool dtype reads them
/// as pandas does (`dtype=bool` on a column of 1 and 0).
inline bool csv_parse_bool_number(std::string_view s, bool& out) {
  double d;
  if (csv_parse_number(s, d) != csv_parse_status::ok || (d != 0 && d != 1)) return false;
  out = d == 1;
  return true;
}

/// What inference saw in a column (bit flags). `csv_saw_negative` marks a negative int64;
/// `csv_saw_uint64` an integer above int64's range that fits uint64; `csv_saw_huge_int` an integer
/// outside both ranges.
enum : std::uint8_t {
  csv_saw_na = 1,
  csv_saw_bool = 2,
  csv_saw_int = 4,
  csv_saw_float = 8,
  csv_saw_text = 16,
  csv_saw_negative = 32,
  csv_saw_uint64 = 64,
  csv_saw_huge_int = 128,
};

/// The type a column gets from what inference saw, by pandas' rules: int with missing -> float64;
/// non-negative integers some beyond int64 -> uint64; integers that no one integer type holds exactly
/// (beyond uint64, or negatives with values beyond int64, or those with missing values) -> strings
/// (pandas: object), so that no value is rounded into a float and collides with another.
csv_column_type csv_inferred_type(std::uint8_t flags);

/// The flag of one non-missing field value, given the column's flags so far (an integer is not looked
/// for once a float or a bool was seen), and its value in `bits`: the int64 or uint64 of an integer,
/// the double of a float, NaN or integer beyond uint64, 0 or 1 for a bool (nothing for text).
std::uint8_t csv_classify_value(std::string_view text, std::uint8_t flags_so_far, std::uint64_t& bits);

/// How numbers are written: pandas' `thousands` and `decimal`.
struct csv_number_format {
  char thousands = '\0';  // '\0' = none
  char decimal = '.';
  static csv_number_format from(const csv_options& o) noexcept { return {o.thousands, o.decimal}; }
  /// False for plain numbers ("1234.5"), which the parsers read as they are.
  bool active() const noexcept { return thousands != '\0' || decimal != '.'; }
};

/// The text of a field as the number parsers read it: itself for plain numbers; otherwise a copy in
/// `scratch` without thousands separators (only those after a digit and before the decimal mark or
/// exponent, as pandas) and with the decimal mark as '.'; a '.' that is not the decimal mark makes
/// the copy a non-number, so such a field stays text (pandas: "1.5" with decimal=',' is text).
inline std::string_view csv_number_text(const csv_number_format& nf, std::string_view text, std::string& scratch) {
  if (!nf.active()) return text;
  scratch.clear();
  bool digit = false, integer_part = true;
  for (const char c : text) {
    if (c == nf.decimal && integer_part) {
      scratch += '.';
      integer_part = false;
    } else if (c == nf.thousands && digit && integer_part) {
      continue;
    } else if (c == '.') {
      scratch += '?';  // not a number
    } else {
      if (c == 'e' || c == 'E') integer_part = false;
      digit = digit || (c >= '0' && c <= '9');
      scratch += c;
    }
  }
  return scratch;
}

/// Context shared by the sinks for messages.
struct csv_context {
  const csv_dialect* dialect;
  const csv_source* source;
  const csv_layout* layout;
  const csv_na_set* na;
  csv_number_format number;
};

/// The delimiter of `options.sep == '\0'`: the one of ',', '\t', ';', '|' that appears equally often
/// (outside quotes) on each of the first lines from `begin` (after `skiprows` lines); ',' when none
/// appears at all. Fails (format) naming the candidates when the lines disagree.
char csv_sniff_sep(const csv_source& src, const char* begin, const csv_options& options);

/// Fails with the ragged-row message.
[[noreturn]] void csv_fail_ragged(const csv_context& ctx, const char* row_begin, std::int64_t fields);
/// Fails with "expected <what> in column ..., found ..." and advice that depends on `type`.
[[noreturn]] void csv_fail_value(const csv_context& ctx, csv_field f, std::int64_t out_column, std::string_view text,
                                 const csv_column_type& type, csv_parse_status status);
/// Fails with the invalid UTF-8 message.
[[noreturn]] void csv_fail_utf8(const csv_context& ctx, csv_field f, std::int64_t out_column);

/// Where the column path writes one output column.
struct csv_column_out {
  csv_column_type type;
  std::byte* data = nullptr;                  // kind tensor: element 0 of the column
  std::vector<std::string>* strings = nullptr;  // kind strings or categorical: one string per row
  bool* valid = nullptr;                      // the validity mask, if the column has missing values
  bool nan_for_missing = false;               // float columns hold NaN for missing values
};

/// Converts the fields of the columns `only` marks (every column when null) from their text into
/// their columns at the row's final position (the column path's second look at a block, see
/// column_pass_internal.hpp).
struct csv_convert_sink {
  csv_context ctx;
  std::vector<csv_column_out>* out;
  std::int64_t row = 0;  // the next row's index in the table
  std::string scratch;
  std::string number_scratch;
  const std::vector<std::uint8_t>* only = nullptr;  // per output column: 1 = convert it

  void field(std::int64_t index, csv_field f);
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    ++row;
    return true;
  }
};

/// The fused path: every read column is a float of type T, parsed straight from the text into the
/// output matrix. Each block owns a region of the output's rows, sized by counting its line breaks
/// beforehand; rows past that region (a block whose count was off: quoted line breaks, a wrongly
/// guessed start) go to `overflow`, and the reader then assembles a new matrix (see `read_matrix`).
/// Rows of plain numbers take `fast_row` (no field scan, no field index); any other row (quotes,
/// missing values, blanks, comments, errors) goes through the tokenizer, which calls
/// `field`/`end_row` for it, so both ways agree on every row.
/// The matrix path's converter of one number, in the order that costs least on the files people
/// write: the short-decimal parser, the 8-digit integer parser (first while the last number was an
/// integer; given up after `integer_give_up` refusals in a row), then fast_float. One per block
/// (its state follows the block's numbers); `bench/csv_bounds.cpp` times this same chain.
template <class T>
struct csv_number_chain {
  /// Fields that the short parser left and `csv_parse_integer_float` refused, in a row; at
  /// `integer_give_up` the block stops trying it (long decimals: the integer scan would be wasted).
  int integer_misses = 0;
  static constexpr int integer_give_up = 64;
  /// The last number was an integer: the next field tries `csv_parse_integer_float` first (integer
  /// files: integers of more than 8 digits no longer pay a refused short parse first), until a field
  /// is not one.
  bool integer_first = false;

  /// Converts the number at `p` (text up to `eof`) into `v`; its end, or nullptr if it is none.
  const char* operator()(const char* p, const char* eof, T& v) {
    const char* end = nullptr;
    if (csv_has_short_parser && eof - p >= 32) {
      if (integer_first) {
        end = csv_parse_integer_float(p, v);
        if (end == nullptr) {
          integer_first = false;
          end = csv_parse_float_short(p, v);
        }
      } else {
        end = csv_parse_float_short(p, v);
        if (end == nullptr && integer_misses < integer_give_up) {
          end = csv_parse_integer_float(p, v);
          integer_misses = end == nullptr ? integer_misses + 1 : 0;
          integer_first = end != nullptr;
        }
      }
    }
    return end != nullptr ? end : csv_parse_float(p, eof, v);
  }
};

template <class T>
struct csv_matrix_sink {
  csv_context ctx;
  std::int64_t out_columns = 0;  // values per row
  bool fast = true;              // false when `fast_row` cannot be trusted (see `csv_matrix_fast_ok`)
  bool all_columns = true;       // every file column is read (output column == file column)
  bool ssse3_rows = csv_ssse3_rows();  // rows try `csv_parse_row_ssse3` first (the CPU has SSSE3)
  /// Rows in a row that `csv_parse_row_ssse3` refused; at `ssse3_give_up` the block stops trying it
  /// (long numbers, integers beyond 8 digits: it would parse a few fields of every row twice).
  int ssse3_misses = 0;
  static constexpr int ssse3_give_up = 8;
  csv_number_chain<T> number;  // this block's converter of one number
  T* region = nullptr;           // this block's rows in the output, room for `region_rows` rows
  std::int64_t region_rows = 0;
  std::vector<T> overflow;  // rows past the region, row-major
  std::int64_t rows = 0;    // rows parsed, in the region first
  T* row = nullptr;         // where the current row's values go (set by `begin_row`)
  std::string scratch;
  std::string number_scratch;
  const csv_column_type type{column_kind::tensor, std::is_same_v<T, float> ? dtype::float32 : dtype::float64};

  explicit csv_matrix_sink(const csv_context& c) : ctx(c), out_columns(static_cast<std::int64_t>(c.layout->names.size())) {}

  void reset() {
    rows = 0;
    ssse3_misses = 0;
    number = {};
    overflow.clear();
  }
  /// The rows parsed into the region and into `overflow`.
  std::int64_t region_used() const noexcept { return std::min(rows, region_rows); }
  std::int64_t overflow_rows() const noexcept { return rows - region_used(); }
  void begin_row() {
    if (rows < region_rows) {
      row = region + rows * out_columns;
      return;
    }
    const auto at = static_cast<std::size_t>((rows - region_rows) * out_columns);
    overflow.resize(at + static_cast<std::size_t>(out_columns));
    row = overflow.data() + at;
  }
  /// Parses one row of plain numbers at `p` (a row start) into `row` and returns the first byte of the
  /// next row; nullptr (nothing consumed) when the row is not plain numbers with the right field count.
  const char* fast_row(const char* p, const char* eof) {
    const csv_dialect& d = *ctx.dialect;
#if defined(TB_CSV_SSSE3_ROWS)
    if (ssse3_rows && all_columns && ssse3_misses < ssse3_give_up) {
      if (const char* next = csv_parse_row_ssse3(p, eof, d.sep, out_columns, row)) {
        ssse3_misses = 0;
        return next;
      }
      ++ssse3_misses;
    }
#endif
    const std::int64_t last = ctx.layout->file_columns - 1;
    for (std::int64_t j = 0;; ++j) {
      const std::int64_t o = all_columns ? j : ctx.layout->out_of_file[static_cast<std::size_t>(j)];
      if (o >= 0) {
        T v;
        const char* end = number(p, eof, v);
        if (end == nullptr) return nullptr;
        row[o] = v;
        p = end;
      } else {
        while (p < eof && d.at(*p) == csv_plain) ++p;
      }
      if (p >= eof) return j == last ? p : nullptr;
      const char c = *p;
      if (j < last) {
        if (c != d.sep) return nullptr;
        ++p;
        continue;
      }
      if (c == '\n') return p + 1;
      if (c == '\r') return (p + 1 < eof && p[1] == '\n') ? p + 2 : p + 1;
      return nullptr;
    }
  }
  void field(std::int64_t index, csv_field f) {
    if (index >= ctx.layout->file_columns) return;
    const std::int64_t out = ctx.layout->out_of_file[static_cast<std::size_t>(index)];
    if (out < 0) return;
    const std::string_view text = field_text(*ctx.dialect, f, scratch);
    T v;
    if (ctx.na->contains(text)) {
      v = std::numeric_limits<T>::quiet_NaN();
    } else if (auto status = csv_parse_number(csv_number_text(ctx.number, text, number_scratch), v);
               status != csv_parse_status::ok) {
      csv_fail_value(ctx, f, out, text, type, status);
    }
    row[out] = v;
  }
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    ++rows;
    return true;
  }
};

/// True if `csv_matrix_sink::fast_row` reads every row it accepts exactly as the tokenizer and
/// `field` would: numbers are plain (no thousands separator, '.' as decimal mark), no missing-value
/// string is a number, and no special character (delimiter, quote, escape, comment) can appear
/// inside a number that `from_chars` accepts.
bool csv_matrix_fast_ok(const csv_context& ctx);

/// Parses the rows that start in [begin, stop) into `sink` (the fused matrix path); same contract as
/// `csv_tokenize` (nullptr when a speculative row runs past `limit`).
template <class T>
const char* csv_parse_matrix_rows(const csv_context& ctx, const char* begin, const char* stop, const char* limit,
                                  csv_matrix_sink<T>& sink) {
  const char* p = begin;
  const char* const eof = ctx.source->eof;
  while (p < stop && p < eof) {
    sink.begin_row();
    if (sink.fast) {
      if (const char* next = sink.fast_row(p, eof)) {
        ++sink.rows;
        p = next;
        continue;
      }
    }
    // One row (or blank/comment lines) through the general tokenizer: a row starts in [p, p + 1).
    p = csv_tokenize(*ctx.dialect, *ctx.source, p, p + 1, limit, sink);
    if (p == nullptr) return nullptr;
  }
  return p;
}

}  // namespace tb::detail
