// The CSV number parser at its edges (digit counts around 19, 2^53, midpoints, subnormals, overflow,
// signed zeros, malformed text), and the tokenizer's 16-byte field scan against every delimiter,
// line break, escape and comment position.

#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "io/csv/number_internal.hpp"
#include "io/csv/parser_internal.hpp"
#include "tensorbridge/io/csv.hpp"

namespace {

// The correctly rounded value: libstdc++'s from_chars (exact), with strtod's +-inf / +-0 where it
// reports the value out of range (what pandas gives).
template <class T>
T reference(const std::string& s) {
  T v{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  EXPECT_EQ(ptr, s.data() + s.size()) << s;
  if (ec == std::errc::result_out_of_range) {
    if constexpr (std::is_same_v<T, float>) v = std::strtof(s.c_str(), nullptr);
    else v = std::strtod(s.c_str(), nullptr);
  }
  return v;
}

template <class T>
void expect_parses(const std::string& s) {
  T got{};
  const char* end = tb::detail::csv_parse_float(s.data(), s.data() + s.size(), got);
  ASSERT_EQ(end, s.data() + s.size()) << s;
  const T want = reference<T>(s);
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << s;
    return;
  }
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(T)), 0) << s << " read as " << got << ", correctly rounded " << want;
}

const std::vector<std::string>& edge_numbers() {
  static const std::vector<std::string> numbers = {
      // 19 and 20 significant digits, the Eisel-Lemire limit and just past it
      "1234567890123456789", "12345678901234567890", "9999999999999999999", "99999999999999999999",
      "18446744073709551615", "18446744073709551616", "0.1234567890123456789", "0.12345678901234567891",
      "1.234567890123456789e+02", "-1.234567890123456789e-300",
      // around 2^53 (the last exact double integers) and 2^24 (float)
      "9007199254740992", "9007199254740993", "9007199254740994", "9007199254740995", "9007199254740992.5",
      "16777216", "16777217", "16777218", "16777217.000000001",
      // halfway between doubles / floats, exactly and a hair either side
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126", "1.000000059604644775390625",
      "1.000000059604644775390624", "1.000000059604644775390626", "1.00000005960464477539062500001",
      // subnormals and underflow, for double and float
      "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "-1e-400",
      "2.2250738585072011e-308", "2.2250738585072012e-308", "1.4e-45", "7.006492321624085e-46", "7e-46",
      "1.1754942e-38", "1.17549435e-38",
      // overflow to inf
      "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e400",
      "3.4028234e38", "3.40282356779733661637539395458142568448e38", "3.4028236e38", "1e39",
      // zeros, signs, exponent forms, huge exponent digit counts
      "0", "-0", "0.0", "-0.0", "0e0", "-0e-5", "0e999999999", "1E5", "1e+05", "1e-05", "-.5e1", ".5", "5.",
      "000000000000000000000000001.5", "1e0000000000000000000000005", "123456789012345678901234567890e-20",
      // non-finite
      "inf", "-inf", "Infinity", "-INFINITY", "nan", "-nan", "NaN"};
  return numbers;
}

TEST(CsvNumbers, EdgeCasesAreCorrectlyRounded) {
  for (const std::string& s : edge_numbers()) {
    expect_parses<double>(s);
    expect_parses<float>(s);
  }
}

TEST(CsvNumbers, RandomDigitCountsAndExponentsAreCorrectlyRounded) {
  std::mt19937_64 rng(23);
  for (int i = 0; i < 200000; ++i) {
    std::string s = rng() % 2 ? "-" : "";
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 2) s.insert(s.size() - static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(n)), ".");
    if (rng() % 2) s += (rng() % 2 ? "e" : "E") + std::to_string(static_cast<int>(rng() % 700) - 350);
    expect_parses<double>(s);
    expect_parses<float>(s);
    if (HasFailure()) return;
  }
}

// The integer path (8 digits at a time): every '-'? + 1..20 digit integer up to 2^64 - 1 that is not
// followed by '.', 'e' or 'E' is taken, correctly rounded; everything else is left (nullptr) to
// csv_parse_float.
template <class T>
void expect_integer(const std::string& number, const std::string& after) {
  std::string buf = number + after;
  buf.resize(buf.size() + 40, ',');  // 32 readable bytes from the start at least
  T got{};
  const char* end = tb::detail::csv_parse_integer_float(buf.data(), got);
  const std::string digits = number.substr(number[0] == '-' ? 1 : 0);
  const bool fits = !digits.empty() && digits.size() <= 20 &&
                    (digits.size() < 20 || digits <= std::string("18446744073709551615"));
  const bool ends = after.empty() || (after[0] != '.' && after[0] != 'e' && after[0] != 'E');
  if (!fits || !ends) {
    EXPECT_EQ(end, nullptr) << number << after;
    return;
  }
  ASSERT_EQ(end, buf.data() + number.size()) << number << after;
  const T want = reference<T>(number);
  EXPECT_EQ(std::memcmp(&got, &want, sizeof(T)), 0) << number << " read as " << got << ", correctly rounded " << want;
}

// The int64 reading of the same path: where it takes a number, it agrees with from_chars; it leaves
// only what from_chars refuses or finds out of range, or more than 20 digits.
void expect_int64(const std::string& number) {
  std::string buf = number;
  buf.resize(buf.size() + 40, ',');
  std::int64_t got = 0, want = 0;
  const char* end = tb::detail::csv_parse_int64(buf.data(), got);
  const auto [ptr, ec] = std::from_chars(buf.data(), buf.data() + buf.size(), want);
  const std::size_t digits = number.size() - (number[0] == '-' ? 1 : 0);
  if (end == nullptr) {
    EXPECT_TRUE(ec != std::errc{} || digits > 20) << number;
    return;
  }
  EXPECT_EQ(ec, std::errc{}) << number;
  EXPECT_EQ(end, ptr) << number;
  EXPECT_EQ(got, want) << number;
}

TEST(CsvNumbers, IntegersAreReadEightDigitsAtATime) {
  const char* numbers[] = {"0", "-0", "7", "-7", "12345678", "123456789", "9007199254740993", "-9007199254740995",
                           "16777217", "16777219", "36028797018963971", "9223372036854775807",
                           "-9223372036854775808", "9223372036854775808", "18446744073709551615",
                           "18446744073709551616", "99999999999999999999", "100000000000000000000",
                           "00000000000000000001", "-00000000000000000000", "000000000000000000000", "-",
                           "1234567890123456789", "-12345678901234567890"};
  const char* afters[] = {"", ",", "\n", "\r\n", ".", ".5", "e5", "E-5", "x", " "};
  for (const char* n : numbers) {
    for (const char* a : afters) {
      expect_integer<double>(n, a);
      expect_integer<float>(n, a);
    }
    expect_int64(n);
  }
  std::mt19937_64 rng(29);
  for (int i = 0; i < 200000; ++i) {
    std::string s = rng() % 2 ? "-" : "";
    const int n = 1 + static_cast<int>(rng() % 21);
    s += static_cast<char>('0' + rng() % 10);
    for (int k = 1; k < n; ++k) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 4 == 0) s = (s[0] == '-' ? "-" : "") + std::to_string(rng());  // near 2^64
    const char* after = afters[rng() % std::size(afters)];
    expect_integer<double>(s, after);
    expect_integer<float>(s, after);
    expect_int64(s);
    if (HasFailure()) return;
  }
}

// Where the parser stops: what from_chars accepts is a prefix; the field check then rejects the rest.
TEST(CsvNumbers, MalformedTextStopsWhereFromCharsStops) {
  const char* texts[] = {"1_000", "1.2.3", "1e", "1e+", "1e+x", "0x10", "1.5e3e", "12345678901234567890x", "1-2",
                         "5,6"};
  for (const char* t : texts) {
    const std::string s = t;
    double got = 0, want = 0;
    const char* end = tb::detail::csv_parse_float(s.data(), s.data() + s.size(), got);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), want);
    ASSERT_EQ(ec, std::errc{}) << s;
    EXPECT_EQ(end, ptr) << s;
    EXPECT_LT(end, s.data() + s.size()) << s;
    EXPECT_EQ(got, want) << s;
  }
  const char* invalid[] = {"", "-", ".", "-.", "+1", "e5", "_1", "--1", "in", "x"};
  for (const char* t : invalid) {
    const std::string s = t;
    double got = 0;
    EXPECT_EQ(tb::detail::csv_parse_float(s.data(), s.data() + s.size(), got), nullptr) << '"' << s << '"';
  }
  // Through the reader: the field is not a number, and the message says where.
  tb::csv_options o;
  o.dtype = tb::csv_column_type::from_name("float64");
  for (const char* t : {"1_000", "1.2.3", "1e", "0x10", "12345678901234567890x"}) {
    try {
      (void)tb::read_csv_string(std::string("a,b\n1,2\n3,") + t + "\n", o);
      ADD_FAILURE() << t << " was read";
    } catch (const tb::error& e) {
      EXPECT_NE(std::string(e.what()).find("<string>:3:2: expected a number in column \"b\""), std::string::npos)
          << e.what();
    }
  }
}

// The 16-byte scan must stop at the first delimiter, line break, escape or comment at any offset,
// and must treat quotes inside an unquoted field as plain bytes.
TEST(CsvNumbers, FieldScanStopsAtEverySpecialByte) {
  tb::csv_options options;
  options.escapechar = '\\';
  options.comment = '#';
  const tb::detail::csv_dialect d = tb::detail::csv_dialect::from(options);
  for (const char special : {',', '\n', '\r', '\\', '#'}) {
    for (int at = 0; at < 40; ++at) {
      std::string s(40, 'x');
      s[5] = '"';  // a quote is plain inside an unquoted field
      if (at != 5) s[static_cast<std::size_t>(at)] = special;
      const char* p = tb::detail::csv_skip_plain(d, s.data(), s.data() + s.size());
      const char* want = s.data() + (at == 5 ? 0 : at);
      if (at == 5) {  // no special byte: it scans whole 16-byte steps and leaves the tail to the caller
        EXPECT_EQ(p, s.data() + 32) << at;
        continue;
      }
      // It may stop early only by running out of whole 16-byte steps.
      if (at >= 32) EXPECT_EQ(p, s.data() + 32) << special << " at " << at;
      else EXPECT_EQ(p, want) << special << " at " << at;
    }
  }
  // Unset escape and comment characters do not stop it at NUL bytes.
  const tb::detail::csv_dialect plain = tb::detail::csv_dialect::from(tb::csv_options{});
  const std::string zeros(40, '\0');
  EXPECT_EQ(tb::detail::csv_skip_plain(plain, zeros.data(), zeros.data() + zeros.size()), zeros.data() + 32);
}

// Whole files with long fields (past 16 bytes), quotes inside unquoted fields, escapes and comments
// after long fields: the column path reads them as the per-byte tokenizer would.
TEST(CsvNumbers, LongFieldsWithEscapesAndCommentsAreTokenized) {
  tb::csv_options o;
  o.escapechar = '\\';
  o.comment = '#';
  const std::string text =
      "name,x\n"
      "a_long_text_field_with\"quote\"inside,1.2345678901234567e-5\n"
      "escaped\\,comma_in_a_long_unquoted_field,-12345678901234567890\n"
      "short,3#a comment after a field\n"
      "\"quoted, with a comma and a long tail\",4.5\r\n";
  const auto t = tb::read_csv_string(text, o);
  ASSERT_EQ(t.num_rows(), 4);
  const auto& names = t.at("name").strings;
  EXPECT_EQ(names[0], "a_long_text_field_with\"quote\"inside");
  EXPECT_EQ(names[1], "escaped,comma_in_a_long_unquoted_field");
  EXPECT_EQ(names[2], "short");
  EXPECT_EQ(names[3], "quoted, with a comma and a long tail");
  const auto* x = static_cast<const double*>(t.at("x").values.data());
  EXPECT_EQ(x[0], 1.2345678901234567e-5);
  EXPECT_EQ(x[1], -12345678901234567890.0);
  EXPECT_EQ(x[2], 3.0);
  EXPECT_EQ(x[3], 4.5);
}

// Type inference calls plain decimals floats without converting them; anything else still converts
// (inf, nan as missing, '+') or is text.
TEST(CsvNumbers, InferenceOfFloatForms) {
  const auto t = tb::read_csv_string(
      "a,b,c,d\n1.5,1e5,+2.5,x\n-2,-1.5E-300,inf,1e\n.5,5.,nan,1.5.2\n", tb::csv_options{});
  EXPECT_EQ(t.at("a").values.dtype(), tb::dtype::float64);
  EXPECT_EQ(t.at("b").values.dtype(), tb::dtype::float64);
  EXPECT_EQ(t.at("c").values.dtype(), tb::dtype::float64);
  EXPECT_EQ(t.at("d").kind, tb::column_kind::strings);
  const auto* c = static_cast<const double*>(t.at("c").values.data());
  EXPECT_EQ(c[0], 2.5);
  EXPECT_TRUE(std::isinf(c[1]));
  EXPECT_TRUE(std::isnan(c[2]));
  const auto* b = static_cast<const double*>(t.at("b").values.data());
  EXPECT_EQ(b[1], -1.5e-300);
}

}  // namespace
