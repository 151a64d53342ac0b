#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

#include "core/dispatch_internal.hpp"
#include "io/csv/converter_internal.hpp"

namespace tb::detail {
namespace {

// pandas' default missing-value strings (pandas._libs.parsers.STR_NA_VALUES), without "".
constexpr std::string_view default_na[] = {"#N/A", "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                                           "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",  "NULL",    "NaN",
                                           "None", "n/a",     "nan",  "null"};

std::string shown(std::string_view text) {
  constexpr std::size_t max_shown = 40;
  std::string s(text.substr(0, max_shown));
  if (text.size() > max_shown) s += "...";
  return "\"" + s + "\"";
}

std::string column_label(const csv_context& ctx, std::int64_t out) {
  return "column \"" + ctx.layout->names[static_cast<std::size_t>(out)] + "\"";
}

}  // namespace

csv_na_set::csv_na_set(const csv_options& options) {
  if (options.keep_default_na) {
    empty_is_na_ = true;
    for (std::string_view s : default_na) storage_.emplace_back(s);
  }
  for (const std::string& s : options.na_values) {
    if (s.empty()) empty_is_na_ = true;
    else storage_.push_back(s);
  }
  for (const std::string& s : storage_) {
    set_.insert(s);
    max_length_ = std::max(max_length_, s.size());
    first_[static_cast<unsigned char>(s.front())] = true;
    double v;
    if (csv_parse_number(s, v) == csv_parse_status::ok && !std::isnan(v)) has_numeric_ = true;
  }
}

bool& csv_ssse3_rows() noexcept {
#if defined(TB_CSV_SSSE3_ROWS)
  static bool on = __builtin_cpu_supports("ssse3");
#else
  static bool on = false;
#endif
  return on;
}

bool csv_matrix_fast_ok(const csv_context& ctx) {
  const csv_dialect& d = *ctx.dialect;
  if (ctx.na->has_numeric() || ctx.number.active()) return false;
  // from_chars reads signs, digits, '.', letters (exponents, inf, nan) and "nan(...)": a special
  // character among them would end a field or row where fast_row does not look for it.
  for (const char c : {d.sep, d.quote, d.escape, d.comment}) {
    if (c == '\0') continue;
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '+' || c == '-' || c == '.' || c == '(' || c == ')' || c == '_') return false;
  }
  return true;
}

csv_column_type csv_inferred_type(std::uint8_t flags) {
  constexpr std::uint8_t numbers = csv_saw_int | csv_saw_float | csv_saw_uint64 | csv_saw_huge_int;
  if ((flags & csv_saw_text) || ((flags & csv_saw_bool) && (flags & numbers)))
    return {column_kind::strings, dtype::float64};
  if (flags & csv_saw_bool) return {column_kind::tensor, dtype::bool_};
  if (flags & csv_saw_float) return {column_kind::tensor, dtype::float64};
  if (flags & csv_saw_huge_int) return {column_kind::strings, dtype::float64};
  if (flags & csv_saw_uint64) {
    if (flags & (csv_saw_negative | csv_saw_na)) return {column_kind::strings, dtype::float64};
    return {column_kind::tensor, dtype::uint64};
  }
  if ((flags & csv_saw_int) && !(flags & csv_saw_na)) return {column_kind::tensor, dtype::int64};
  return {column_kind::tensor, dtype::float64};
}

std::uint8_t csv_classify_value(std::string_view text, std::uint8_t flags_so_far, std::uint64_t& bits) {
  double d;
  if (!(flags_so_far & (csv_saw_float | csv_saw_bool))) {
    std::int64_t i;
    const csv_parse_status status = csv_parse_number(text, i);
    if (status == csv_parse_status::ok) {
      bits = std::bit_cast<std::uint64_t>(i);
      return i < 0 ? csv_saw_int | csv_saw_negative : csv_saw_int;
    }
    if (status == csv_parse_status::overflow) {  // an integer literal beyond int64
      std::uint64_t u;
      if (csv_parse_number(text, u) == csv_parse_status::ok) {
        bits = u;
        return csv_saw_uint64;
      }
      csv_parse_number(text, d);  // an integer literal: always a number
      bits = std::bit_cast<std::uint64_t>(d);
      return csv_saw_huge_int;
    }
  }
  if (csv_parse_number(text, d) == csv_parse_status::ok) {
    bits = std::bit_cast<std::uint64_t>(d);
    return std::isnan(d) ? csv_saw_na : csv_saw_float;
  }
  bool b;
  if (csv_parse_bool(text, b)) {
    bits = b ? 1 : 0;
    return csv_saw_bool;
  }
  return csv_saw_text;
}

void csv_fail_ragged(const csv_context& ctx, const char* row_begin, std::int64_t fields) {
  const std::int64_t expected = ctx.layout->file_columns;
  std::string msg = detail::cat("expected ", expected, " field", expected == 1 ? "" : "s",
                                ctx.layout->ragged_hint_header ? " (as in the header)" : " (as in the first row)",
                                " but found ", fields, "; ");
  if (ctx.layout->ragged_hint_header && fields > expected)
    msg += "if the first line is not a header, pass header=None (and skiprows=1 to drop that line); otherwise ";
  msg += "check for an unquoted delimiter or a missing field in this row";
  csv_fail(*ctx.source, row_begin, 0, msg);
}

void csv_fail_value(const csv_context& ctx, csv_field f, std::int64_t out, std::string_view text,
                    const csv_column_type& type, csv_parse_status status) {
  const std::string label = column_label(ctx, out);
  const std::string& name = ctx.layout->names[static_cast<std::size_t>(out)];
  const std::int64_t field = ctx.layout->file_of_out[static_cast<std::size_t>(out)] + 1;
  const std::string dtype_name(tb::name(type.dtype));
  std::string msg;
  if (status == csv_parse_status::overflow) {
    msg = detail::cat("the value ", shown(text), " in ", label, " does not fit in ", dtype_name,
                      "; pass a wider type, e.g. dtype={\"", name, "\": \"int64\"} or \"float64\"");
  } else if (type.dtype == dtype::bool_) {
    msg = detail::cat("expected a bool in ", label, " (True/False, true/false, TRUE/FALSE or 1/0), found ",
                      shown(text), "; pass na_values=[", shown(text), "] to read it as missing, or dtype={\"", name,
                      "\": \"str\"} to keep the text");
  } else if (is_integer(type.dtype)) {
    double d;
    if (csv_parse_number(text, d) == csv_parse_status::ok)
      msg = detail::cat("expected an integer (", dtype_name, ") in ", label, ", found ", shown(text),
                        "; pass dtype={\"", name, "\": \"float64\"} to read the column as floats");
    else
      msg = detail::cat("expected an integer (", dtype_name, ") in ", label, ", found ", shown(text),
                        "; pass na_values=[", shown(text), "] to read it as missing, or dtype={\"", name,
                        "\": \"str\"} to keep the text");
  } else {
    msg = detail::cat("expected a number in ", label, ", found ", shown(text), "; pass na_values=[", shown(text),
                      "] to read it as missing, or dtype={\"", name, "\": \"str\"} to keep the text");
  }
  csv_fail(*ctx.source, f.begin, field, msg);
}

void csv_fail_utf8(const csv_context& ctx, csv_field f, std::int64_t out) {
  csv_fail(*ctx.source, f.begin, ctx.layout->file_of_out[static_cast<std::size_t>(out)] + 1,
           detail::cat("invalid UTF-8 in ", column_label(ctx, out),
                       "; tensorbridge reads UTF-8 only: convert the file first (e.g. iconv -f latin1 -t utf-8)"));
}

void csv_convert_sink::field(std::int64_t index, csv_field f) {
  if (index >= ctx.layout->file_columns) return;
  const std::int64_t o = ctx.layout->out_of_file[static_cast<std::size_t>(index)];
  if (o < 0 || (only != nullptr && (*only)[static_cast<std::size_t>(o)] == 0)) return;
  const csv_column_out& col = (*out)[static_cast<std::size_t>(o)];
  const std::string_view text = field_text(*ctx.dialect, f, scratch);
  const auto r = static_cast<std::size_t>(row);
  const bool is_number = col.type.kind == column_kind::tensor && col.type.dtype != dtype::bool_;
  const std::string_view number = is_number ? csv_number_text(ctx.number, text, number_scratch) : text;
  if (is_number && !ctx.na->has_numeric()) {
    // Numbers first: only text that does not parse can be a missing value (see csv_infer_sink).
    const bool stored = visit_dtype(col.type.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        T v;
        if (csv_parse_number(number, v) != csv_parse_status::ok) return false;
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(v) && col.valid != nullptr) return false;  // "nan" is missing: let the mask see it
        }
        reinterpret_cast<T*>(col.data)[r] = v;
        return true;
      }
      return false;
    });
    if (stored) return;
  }
  const bool missing = ctx.na->contains(text);
  if (missing && col.valid != nullptr) col.valid[r] = false;
  if (col.type.kind != column_kind::tensor) {
    if (missing) return;  // the string stays empty
    if (!is_valid_utf8(text)) csv_fail_utf8(ctx, f, o);
    (*col.strings)[r].assign(text);
    return;
  }
  visit_dtype(col.type.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_arithmetic_v<T>) {
      T* dst = reinterpret_cast<T*>(col.data) + r;
      if (missing) {
        if constexpr (std::is_floating_point_v<T>) *dst = std::numeric_limits<T>::quiet_NaN();
        else *dst = T{};
        return;
      }
      if constexpr (std::is_same_v<T, bool>) {
        bool b;
        if (!csv_parse_bool(text, b) && !csv_parse_bool_number(text, b))
          csv_fail_value(ctx, f, o, text, col.type, csv_parse_status::invalid);
        *dst = b;
      } else {
        T v;
        auto status = csv_parse_number(number, v);
        if (status != csv_parse_status::ok) csv_fail_value(ctx, f, o, text, col.type, status);
        *dst = v;
      }
    }
  });
}

}  // namespace tb::detail
