#pragma once
// Turning CSV fields into values: missing-value detection, number and bool parsing, per-column type
// inference, and the sinks the tokenizer feeds (inference, typed columns, one fused number matrix).

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "io/csv_parser_internal.hpp"

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
    return s.size() <= max_length_ && set_.count(s) != 0;
  }
  /// True if some missing-value string reads as a number other than NaN, so numbers must be checked
  /// against the set before they are taken as numbers.
  bool has_numeric() const noexcept { return has_numeric_; }

 private:
  std::vector<std::string> storage_;
  std::unordered_set<std::string_view> set_;  // views into storage_
  std::size_t max_length_ = 0;
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

/// The common decimal form (`-12.345e-6`, at most 19 digits, a result exactly computable by one
/// correctly rounded division or multiplication: Clinger's fast path) parsed without `from_chars`.
/// Returns the end of the number, or nullptr when the text needs the general parser (which then
/// decides). For float, a double result that lies exactly halfway between two floats also defers,
/// so that rounding twice can never differ from rounding once.
template <class T>
inline const char* csv_parse_float_fast(const char* p, const char* eof, T& out) noexcept {
  static constexpr double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const bool negative = p < eof && *p == '-';
  if (negative) ++p;
  std::uint64_t m = 0;
  int digits = 0;
  const char* start = p;
  while (p < eof && static_cast<unsigned>(*p - '0') < 10) {
    m = m * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  digits = static_cast<int>(p - start);
  int exponent = 0;
  if (p < eof && *p == '.') {
    ++p;
    const char* frac = p;
    while (p < eof && static_cast<unsigned>(*p - '0') < 10) {
      m = m * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    exponent = -static_cast<int>(p - frac);
    digits += static_cast<int>(p - frac);
  }
  if (digits == 0 || digits > 19) return nullptr;
  if (p < eof && (*p == 'e' || *p == 'E')) {
    const char* q = p + 1;
    bool eneg = false;
    if (q < eof && (*q == '-' || *q == '+')) eneg = *q++ == '-';
    int e = 0;
    const char* edigits = q;
    while (q < eof && static_cast<unsigned>(*q - '0') < 10 && e < 10000) e = e * 10 + (*q++ - '0');
    if (q == edigits) return nullptr;
    exponent += eneg ? -e : e;
    p = q;
  }
  if (m > (std::uint64_t{1} << 53) || exponent < -22 || exponent > 22) return nullptr;
  double d = static_cast<double>(m);
  d = exponent < 0 ? d / pow10[-exponent] : d * pow10[exponent];
  if constexpr (std::is_same_v<T, float>) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    if ((bits & ((std::uint64_t{1} << 29) - 1)) == (std::uint64_t{1} << 28)) return nullptr;  // a float midpoint
    if (d != 0 && (d < 1.2e-38 || d > 3.4e38)) return nullptr;  // subnormal or overflowing floats
  }
  out = static_cast<T>(negative ? -d : d);
  return p;
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
    if (csv_parse_float_fast(b, e, out) == e) return csv_parse_status::ok;
  }
  auto [ptr, ec] = std::from_chars(b, e, out);
  if (ptr != e) return csv_parse_status::invalid;
  if (ec == std::errc::result_out_of_range) {
    if constexpr (std::is_floating_point_v<T>) {
      out = static_cast<T>(std::strtod(std::string(b, e).c_str(), nullptr));  // +-inf or a rounded tiny value
      return csv_parse_status::ok;
    }
    return csv_parse_status::overflow;
  }
  return ec == std::errc{} ? csv_parse_status::ok : csv_parse_status::invalid;
}

/// Parses True/TRUE/true and False/FALSE/false (pandas' defaults).
inline bool csv_parse_bool(std::string_view s, bool& out) noexcept {
  s = csv_trim(s);
  if (s == "True" || s == "TRUE" || s == "true") return out = true, true;
  if (s == "False" || s == "FALSE" || s == "false") return out = false, true;
  return false;
}

/// What inference saw in a column (bit flags).
enum : std::uint8_t { csv_saw_na = 1, csv_saw_bool = 2, csv_saw_int = 4, csv_saw_float = 8, csv_saw_text = 16 };

/// The type a column gets from what inference saw (pandas' rules: int with missing -> float64).
csv_column_type csv_inferred_type(std::uint8_t flags);

/// The flag of one non-missing field value.
std::uint8_t csv_classify(std::string_view text, std::uint8_t flags_so_far);

/// Context shared by the sinks for messages.
struct csv_context {
  const csv_dialect* dialect;
  const csv_source* source;
  const csv_layout* layout;
  const csv_na_set* na;
};

/// Fails with the ragged-row message.
[[noreturn]] void csv_fail_ragged(const csv_context& ctx, const char* row_begin, std::int64_t fields);
/// Fails with "expected <what> in column ..., found ..." and advice that depends on `type`.
[[noreturn]] void csv_fail_value(const csv_context& ctx, csv_field f, std::int64_t out_column, std::string_view text,
                                 const csv_column_type& type, csv_parse_status status);
/// Fails with the invalid UTF-8 message.
[[noreturn]] void csv_fail_utf8(const csv_context& ctx, csv_field f, std::int64_t out_column);

/// Pass 1 of the column path: counts rows, checks row widths, and records what each column holds.
struct csv_infer_sink {
  csv_context ctx;
  std::vector<std::uint8_t> flags;  // per output column
  std::int64_t rows = 0;
  std::string scratch;

  explicit csv_infer_sink(const csv_context& c) : ctx(c), flags(c.layout->names.size(), 0) {}
  void reset() {
    std::fill(flags.begin(), flags.end(), 0);
    rows = 0;
  }
  void field(std::int64_t index, csv_field f) {
    if (index >= ctx.layout->file_columns) return;
    const std::int64_t out = ctx.layout->out_of_file[static_cast<std::size_t>(index)];
    if (out < 0) return;
    std::uint8_t& fl = flags[static_cast<std::size_t>(out)];
    const std::string_view text = field_text(*ctx.dialect, f, scratch);
    const bool inferred = !ctx.layout->types[static_cast<std::size_t>(out)] && !(fl & csv_saw_text);
    // Hashing every field against the NA set is the slow part; a field that reads as a number or a
    // bool cannot be missing unless some NA string is itself a number.
    if (inferred && !ctx.na->has_numeric()) {
      const std::uint8_t kind = csv_classify(text, fl);
      if (kind != csv_saw_text) {
        fl |= kind;
        return;
      }
    }
    if (ctx.na->contains(text)) {
      fl |= csv_saw_na;
      return;
    }
    if (inferred) fl |= csv_classify(text, fl);
  }
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    ++rows;
    return true;
  }
};

/// Where pass 2 writes one output column.
struct csv_column_out {
  csv_column_type type;
  std::byte* data = nullptr;                  // kind tensor: element 0 of the column
  std::vector<std::string>* strings = nullptr;  // kind strings or categorical: one string per row
  bool* valid = nullptr;                      // the validity mask, if the column has missing values
  bool nan_for_missing = false;               // float columns hold NaN for missing values
};

/// Pass 2 of the column path: converts every field into its column at the row's final position.
struct csv_convert_sink {
  csv_context ctx;
  std::vector<csv_column_out>* out;
  std::int64_t row = 0;  // the next row's index in the table
  std::string scratch;

  void field(std::int64_t index, csv_field f);
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    ++row;
    return true;
  }
};

/// The fused path: every read column is a float of type T, parsed straight from the text into a
/// row-major block buffer (most fields never go through the tokenizer's scan).
template <class T>
struct csv_matrix_sink {
  csv_context ctx;
  std::vector<T> values;
  std::int64_t rows = 0;
  bool fast = true;  // false when a missing-value string looks like a number
  bool all_columns = true;
  std::string scratch;
  const csv_column_type type{column_kind::tensor, std::is_same_v<T, float> ? dtype::float32 : dtype::float64};

  void reset(std::size_t reserve_values) {
    values.clear();
    values.reserve(reserve_values);
    rows = 0;
  }
  bool fast_field(std::int64_t index, const char*& p, const char* eof) {
    if (!fast || index >= ctx.layout->file_columns) return false;
    if (!all_columns && ctx.layout->out_of_file[static_cast<std::size_t>(index)] < 0) return false;
    T v;
    const char* ptr = csv_parse_float_fast(p, eof, v);
    if (ptr == nullptr) {
      auto [end, ec] = std::from_chars(p, eof, v);
      if (ec != std::errc{} || end == p) return false;
      ptr = end;
    }
    if (ptr < eof) {
      const std::uint8_t c = ctx.dialect->at(*ptr);
      if (c != csv_sep && c != csv_lf && c != csv_cr) return false;
    }
    values.push_back(v);
    p = ptr;
    return true;
  }
  void field(std::int64_t index, csv_field f) {
    if (index >= ctx.layout->file_columns) return;
    const std::int64_t out = ctx.layout->out_of_file[static_cast<std::size_t>(index)];
    if (out < 0) return;
    const std::string_view text = field_text(*ctx.dialect, f, scratch);
    T v;
    if (ctx.na->contains(text)) {
      v = std::numeric_limits<T>::quiet_NaN();
    } else if (auto status = csv_parse_number(text, v); status != csv_parse_status::ok) {
      csv_fail_value(ctx, f, out, text, type, status);
    }
    values.push_back(v);
  }
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    ++rows;
    return true;
  }
};

}  // namespace tb::detail
