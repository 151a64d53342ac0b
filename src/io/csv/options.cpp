#include <algorithm>
#include <cctype>
#include <string>
#include <utility>

#include "tensorbridge/io/csv.hpp"

namespace tb {
namespace {

std::string printable(char c) {
  switch (c) {
    case '\n': return "'\\n'";
    case '\r': return "'\\r'";
    case '\0': return "'\\0'";
    default: return std::string("'") + c + "'";
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

csv_column_type csv_column_type::from_name(std::string_view name) {
  const std::string n = lower(name);
  if (n == "str" || n == "string" || n == "object" || n == "o") return {column_kind::strings, dtype::float64};
  if (n == "category") return {column_kind::categorical, dtype::int32};
  const tb::dtype t = dtype_from_name(name);
  if (t == dtype::float16 || t == dtype::bfloat16 || is_complex(t))
    fail(error_kind::type, "read_csv cannot parse ", tb::name(t),
         " columns; read them as \"float32\" and cast afterwards (tb.cast)");
  return {column_kind::tensor, t};
}

void csv_options::validate() const {
  auto check_char = [](char c, const char* what) {
    if (c == '\n' || c == '\r')
      fail(error_kind::value, "read_csv: ", what, " cannot be a line break ", printable(c));
  };
  check_char(sep, "sep");  // '\0': detected from the text
  check_char(quotechar, "quotechar");
  check_char(escapechar, "escapechar");
  check_char(comment, "comment");
  const char specials[] = {quotechar, escapechar, comment};
  const char* names_of[] = {"quotechar", "escapechar", "comment"};
  for (int i = 0; i < 3; ++i) {
    if (specials[i] == '\0') continue;
    if (specials[i] == sep)
      fail(error_kind::value, "read_csv: ", names_of[i], " and sep are both ", printable(sep),
           "; choose different characters");
    for (int j = i + 1; j < 3; ++j)
      if (specials[i] == specials[j])
        fail(error_kind::value, "read_csv: ", names_of[i], " and ", names_of[j], " are both ", printable(specials[i]),
             "; choose different characters");
  }
  check_char(thousands, "thousands");
  check_char(decimal, "decimal");
  if (decimal == '\0') fail(error_kind::value, "read_csv: decimal must be one character, such as '.' or ','");
  for (const auto& [mark, what] : {std::pair{thousands, "thousands"}, std::pair{decimal, "decimal"}}) {
    if (mark == '\0') continue;
    if ((mark >= '0' && mark <= '9') || mark == '+' || mark == '-' || mark == 'e' || mark == 'E')
      fail(error_kind::value, "read_csv: ", what, " cannot be ", printable(mark),
           ", which is part of numbers; use a character such as ',' or '.'");
    for (int i = 0; i < 3; ++i)
      if (specials[i] == mark)
        fail(error_kind::value, "read_csv: ", what, " and ", names_of[i], " are both ", printable(mark),
             "; choose different characters");
  }
  if (thousands == decimal)
    fail(error_kind::value, "read_csv: thousands and decimal are both ", printable(decimal),
         "; choose different characters (e.g. thousands='.', decimal=',')");
  if (nrows && *nrows < 0)
    fail(error_kind::value, "read_csv: nrows must be >= 0 (or none for every row), got ", *nrows);
  if (header < header_infer)
    fail(error_kind::value, "read_csv: header must be a row number >= 0, None (no header) or 'infer'; got ", header);
  if (skiprows < 0) fail(error_kind::value, "read_csv: skiprows must be >= 0, got ", skiprows);
  if (!usecols.empty() && !usecols_index.empty())
    fail(error_kind::value, "read_csv: give usecols either as names or as positions, not both");
  for (std::int64_t i : usecols_index)
    if (i < 0) fail(error_kind::value, "read_csv: usecols positions must be >= 0, got ", i);
  if (block_size == 0) fail(error_kind::value, "read_csv: block_size must be at least 1 byte");
  const std::string enc = lower(encoding);
  if (enc != "utf-8" && enc != "utf8" && enc != "utf-8-sig" && enc != "utf_8" && enc != "ascii")
    fail(error_kind::value, "read_csv: encoding \"", encoding,
         "\" is not supported; only UTF-8 is. Convert the file first, e.g. iconv -f ", encoding,
         " -t utf-8 in.csv > out.csv");
  std::vector<std::string> seen;
  for (const auto& [column, type] : dtypes) {
    if (std::find(seen.begin(), seen.end(), column) != seen.end())
      fail(error_kind::value, "read_csv: dtype names column \"", column, "\" twice");
    seen.push_back(column);
  }
}

}  // namespace tb
