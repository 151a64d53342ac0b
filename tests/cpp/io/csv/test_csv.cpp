#include <gtest/gtest.h>

#include "io_test_support.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "tensorbridge/io/csv.hpp"
#include "tensorbridge/core/threads.hpp"

namespace {

template <class T>
T value(const tb::table& t, std::string_view col, std::int64_t row) {
  return t.at(col).values.at<T>({row});
}

std::string error_of(const std::string& text, const tb::csv_options& o = {}) {
  try {
    tb::read_csv_string(text, o);
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::format) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

TEST(Csv, InfersBoolIntFloatString) {
  auto t = tb::read_csv_string("a,b,c,d\n1,1.5,True,x\n2,-3,false,\"y,z\"\n");
  ASSERT_EQ(t.num_rows(), 2);
  EXPECT_EQ(t.names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(t.at("a").values.dtype(), tb::dtype::int64);
  EXPECT_EQ(t.at("b").values.dtype(), tb::dtype::float64);
  EXPECT_EQ(t.at("c").values.dtype(), tb::dtype::bool_);
  EXPECT_EQ(t.at("d").kind, tb::column_kind::strings);
  EXPECT_EQ(value<std::int64_t>(t, "a", 1), 2);
  EXPECT_EQ(value<double>(t, "b", 1), -3.0);
  EXPECT_EQ(value<bool>(t, "c", 0), true);
  EXPECT_EQ(t.at("d").strings[1], "y,z");
}

TEST(Csv, MissingValues) {
  auto t = tb::read_csv_string("i,f,s\n1,,x\nNA,2.5,\n3,nan,z\n");
  EXPECT_EQ(t.at("i").values.dtype(), tb::dtype::float64);  // int with missing -> float64, as pandas
  EXPECT_TRUE(std::isnan(value<double>(t, "i", 1)));
  EXPECT_TRUE(std::isnan(value<double>(t, "f", 0)));
  EXPECT_TRUE(std::isnan(value<double>(t, "f", 2)));
  ASSERT_TRUE(t.at("s").valid.has_value());
  EXPECT_FALSE(t.at("s").valid->at<bool>({1}));
  EXPECT_TRUE(t.at("s").valid->at<bool>({2}));

  tb::csv_options o;
  o.na_values = {"-999"};
  o.dtypes = {{"i", tb::csv_column_type::from_name("int32")}};
  auto u = tb::read_csv_string("i,f\n-999,1\n5,-999\n", o);
  EXPECT_EQ(u.at("i").values.dtype(), tb::dtype::int32);
  ASSERT_TRUE(u.at("i").valid.has_value());
  EXPECT_FALSE(u.at("i").valid->at<bool>({0}));
  EXPECT_EQ(value<std::int32_t>(u, "i", 1), 5);
  EXPECT_TRUE(std::isnan(value<double>(u, "f", 1)));
}

TEST(Csv, QuotesEscapesCommentsCrlfBom) {
  tb::csv_options o;
  o.comment = '#';
  o.escapechar = '\\';
  auto t = tb::read_csv_string("\xEF\xBB\xBF# leading comment\r\nname,v\r\n\"a \"\"q\"\" b\",1 # trailing\r\nc\\,d,2\r\n\r\n", o);
  ASSERT_EQ(t.num_rows(), 2);
  EXPECT_EQ(t.names()[0], "name");
  EXPECT_EQ(t.at("name").strings[0], "a \"q\" b");
  EXPECT_EQ(t.at("name").strings[1], "c,d");
  EXPECT_EQ(value<std::int64_t>(t, "v", 0), 1);
}

TEST(Csv, HeaderNamesUsecolsSkiprows) {
  tb::csv_options o;
  o.skiprows = 1;
  o.header = tb::csv_options::header_none;
  o.usecols_index = {2, 0};
  auto t = tb::read_csv_string("junk line\n1,2,3\n4,5,6\n", o);
  EXPECT_EQ(t.names(), (std::vector<std::string>{"0", "2"}));  // file order, as pandas
  EXPECT_EQ(value<std::int64_t>(t, "2", 1), 6);

  tb::csv_options n;
  n.names = {"x", "y"};
  auto u = tb::read_csv_string("1,2\n3,4\n", n);
  EXPECT_EQ(u.num_rows(), 2);
  EXPECT_EQ(value<std::int64_t>(u, "y", 0), 2);

  auto dup = tb::read_csv_string("a,a,\n1,2,3\n");
  EXPECT_EQ(dup.names(), (std::vector<std::string>{"a", "a.1", "Unnamed: 2"}));
}

TEST(Csv, Float32MatrixIsZeroCopy) {
  tb::csv_options o;
  o.dtype = tb::csv_column_type::from_name("float32");
  auto t = tb::read_csv_string("a,b\n1,2\n3.5,NA\n+4, 5 \n", o);
  tb::tensor m = t.to_tensor({}, tb::dtype::float32);
  EXPECT_EQ(m.shape(), (tb::shape_t{3, 2}));
  EXPECT_EQ(m.data(), t.at("a").values.data());
  EXPECT_EQ(m.at<float>({1, 0}), 3.5f);
  EXPECT_TRUE(std::isnan(m.at<float>({1, 1})));
  EXPECT_EQ(m.at<float>({2, 0}), 4.0f);
  EXPECT_EQ(m.at<float>({2, 1}), 5.0f);
  EXPECT_EQ(t.at("b").values.at<float>({0}), 2.0f);
  tb::tensor d = t.to_tensor(std::vector<std::string>{"b"}, tb::dtype::float64);
  EXPECT_EQ(d.shape(), (tb::shape_t{3, 1}));
  EXPECT_EQ(d.at<double>({0, 0}), 2.0);
}

// Quoted fields with line breaks placed so that they cross many block boundaries; every block size
// and thread count must give the same table.
TEST(Csv, QuotedNewlinesAcrossBlocks) {
  std::mt19937 rng(7);
  std::string text = "id,text,x\n";
  std::vector<std::string> expect;
  for (int i = 0; i < 300; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) s += "ab\n,\"\r"[rng() % 6];
    expect.push_back(s);
    std::string q;
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    text += std::to_string(i) + ",\"" + q + "\"," + std::to_string(i * 0.5) + (i % 3 ? "\n" : "\r\n");
  }
  for (int threads : {1, 2, 3}) {
    tb::set_num_threads(threads);
    for (std::size_t block : {1, 2, 3, 7, 16, 61, 1000, 1 << 20}) {
      tb::csv_options o;
      o.block_size = block;
      auto t = tb::read_csv_string(text, o);
      ASSERT_EQ(t.num_rows(), 300) << block;
      for (int i = 0; i < 300; ++i) {
        ASSERT_EQ(t.at("text").strings[i], expect[i]) << "block " << block << " row " << i;
        ASSERT_EQ(value<std::int64_t>(t, "id", i), i);
      }
      o.dtypes = {{"text", tb::csv_column_type::from_name("str")}};
      o.dtype = tb::csv_column_type::from_name("float32");
      o.usecols = {"id", "x"};
      auto m = tb::read_csv_string(text, o).to_tensor();
      ASSERT_EQ(m.shape(), (tb::shape_t{300, 2}));
      for (int i = 0; i < 300; ++i) ASSERT_EQ(m.at<float>({i, 1}), static_cast<float>(i * 0.5));
    }
  }
  tb::set_num_threads(0);
}

TEST(Csv, Categorical) {
  tb::csv_options o;
  o.dtypes = {{"c", tb::csv_column_type::from_name("category")}};
  auto t = tb::read_csv_string("c\nb\na\n\nb\nNA\n", o);
  const auto& c = t.at("c");
  EXPECT_EQ(c.kind, tb::column_kind::categorical);
  EXPECT_EQ(c.strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.values.at<std::int32_t>({0}), 1);
  EXPECT_EQ(c.values.at<std::int32_t>({1}), 0);
  EXPECT_EQ(c.values.at<std::int32_t>({3}), -1);
}

TEST(Csv, ErrorsSayWhereAndWhat) {
  tb::csv_options o;
  o.dtype = tb::csv_column_type::from_name("float64");
  std::string e = error_of("id,age\n1,2\n3,n/a?\n", o);
  EXPECT_NE(e.find("<string>:3:2: expected a number in column \"age\", found \"n/a?\""), std::string::npos) << e;
  EXPECT_NE(e.find("na_values"), std::string::npos) << e;

  e = error_of("a,b\n1,2\n3\n");
  EXPECT_NE(e.find("<string>:3: expected 2 fields"), std::string::npos) << e;
  e = error_of("a,b\n1,2\n3,\"oops\n4,5\n");
  EXPECT_NE(e.find("<string>:3:2: unterminated quote"), std::string::npos) << e;
  e = error_of("");
  EXPECT_NE(e.find("empty"), std::string::npos) << e;
  e = error_of("a,b\n");
  EXPECT_NE(e.find("header but no data"), std::string::npos) << e;
  e = error_of("a,b\n1,\xff\xfe\n");
  EXPECT_NE(e.find("<string>:2:2: invalid UTF-8 in column \"b\""), std::string::npos) << e;
  e = error_of("150,4,setosa\n5.1,3.5,1.4,0.2,0\n");
  EXPECT_NE(e.find("header=None"), std::string::npos) << e;

  tb::csv_options i;
  i.dtypes = {{"a", tb::csv_column_type::from_name("int8")}};
  e = error_of("a\n1\n300\n", i);
  EXPECT_NE(e.find("does not fit in int8"), std::string::npos) << e;
}

TEST(Csv, OptionsValidate) {
  tb::csv_options o;
  o.quotechar = ',';
  EXPECT_THROW(o.validate(), tb::error);
  tb::csv_options e;
  e.encoding = "latin-1";
  try {
    e.validate();
    FAIL();
  } catch (const tb::error& err) {
    EXPECT_EQ(err.kind(), tb::error_kind::value);
    EXPECT_NE(std::string(err.what()).find("iconv"), std::string::npos);
  }
  EXPECT_THROW(tb::csv_column_type::from_name("float16"), tb::error);
}

TEST(Csv, FileAndBatches) {
  const std::string path = tb::testing_files::temp_path("tb_test_csv.csv");
  {
    std::ofstream f(path, std::ios::binary);
    f << "x,y\n";
    for (int i = 0; i < 1000; ++i) f << i << "," << (i % 7 == 0 ? "" : std::to_string(i * 2)) << "\n";
  }
  auto t = tb::read_csv(path);
  EXPECT_EQ(t.num_rows(), 1000);
  tb::tensor m = tb::read_csv_tensor(path, tb::dtype::float64);
  EXPECT_EQ(m.shape(), (tb::shape_t{1000, 2}));
  EXPECT_EQ(m.at<double>({999, 0}), 999.0);
  EXPECT_TRUE(std::isnan(m.at<double>({7, 1})));

  tb::csv_batch_reader reader(path, 300);
  std::int64_t total = 0, batches = 0;
  while (auto batch = reader.next()) {
    EXPECT_EQ(batch->at("x").values.at<std::int64_t>({0}), total);
    total += batch->num_rows();
    ++batches;
  }
  EXPECT_EQ(total, 1000);
  EXPECT_EQ(batches, 4);
  try {
    tb::read_csv(path + ".missing");
    FAIL();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::not_found);
  }
  std::remove(path.c_str());
}

}  // namespace

#include <charconv>

#include "io/csv/converter_internal.hpp"
#include "io/csv/parser_internal.hpp"

namespace {

// The row parsers this machine runs: the per-field path always, the SSSE3 row path where the CPU
// has it. `row_parser_scope` selects one for a test and restores the choice afterwards.
std::vector<bool> row_parser_settings() {
  static const bool ssse3 = tb::detail::csv_ssse3_rows();
  return ssse3 ? std::vector<bool>{false, true} : std::vector<bool>{false};
}

struct row_parser_scope {
  bool saved = tb::detail::csv_ssse3_rows();
  explicit row_parser_scope(bool ssse3) { tb::detail::csv_ssse3_rows() = ssse3; }
  ~row_parser_scope() { tb::detail::csv_ssse3_rows() = saved; }
  row_parser_scope(const row_parser_scope&) = delete;
  row_parser_scope& operator=(const row_parser_scope&) = delete;
};

}  // namespace

namespace {

// The number parser (fast_float) must agree bit for bit with std::from_chars on every text: plain
// decimals of up to 21 digits (Clinger, Eisel-Lemire and the digit comparison beyond 19 digits),
// exponents, and where both stop.
template <class T>
void check_fast_parser_agrees() {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (rng() % 2) s += '-';
    const int int_digits = static_cast<int>(rng() % 10);
    const int frac_digits = static_cast<int>(rng() % 12);
    for (int k = 0; k < int_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (frac_digits > 0 || rng() % 4 == 0) s += '.';
    for (int k = 0; k < frac_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 5 == 0) s += "e" + std::to_string(static_cast<int>(rng() % 60) - 30);
    if (rng() % 8 == 0) s += ",";
    T fast{}, slow{};
    const char* end = tb::detail::csv_parse_float(s.data(), s.data() + s.size(), fast);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), slow);
    if (ec == std::errc::invalid_argument) {
      ASSERT_EQ(end, nullptr) << s;
      continue;
    }
    ASSERT_EQ(end, ptr) << s;
    ASSERT_EQ(ec, std::errc{}) << s;
    ASSERT_EQ(std::memcmp(&fast, &slow, sizeof(T)), 0) << s << " fast " << fast << " slow " << slow;
  }
}

TEST(Csv, FastFloatParserMatchesFromChars) {
  check_fast_parser_agrees<float>();
  check_fast_parser_agrees<double>();
}

}  // namespace

namespace {

// Decimal strings that are hard to round: halfway cases between floats and doubles written with 17
// to 25 digits, float midpoints written short enough for the fast paths, long mantissas, exponents,
// subnormals, signed zeros, and the texts from_chars reads as inf/nan.
std::vector<std::string> hard_numbers(std::mt19937_64& rng, int count) {
  std::vector<std::string> out = {"0", "-0", "-0.0", "0.000", "1e-45", "1.4e-45", "7e-46", "1e-310", "2.2250738585072011e-308",
                                  "4.9406564584124654e-324", "3.4028235e38", "3.4028236e38", "1.7976931348623157e308",
                                  "9007199254740993", "9007199254740992.5", "0.1", "0.2", "0.3", "123456789012345678",
                                  "1.00000005960464477539062", "1.0000000596046447753906250001", "16777217", "-16777217",
                                  "33554435", "1e22", "1e23", "9.999999999999999e22", "12345.678e-3", "inf", "-inf",
                                  "Infinity", "nan", "-nan", ".5", "5.", "-.5", "00012.5000"};
  char buf[64];
  while (static_cast<int>(out.size()) < count) {
    const int kind = static_cast<int>(rng() % 5);
    if (kind == 0) {  // a float midpoint, printed exactly or nearly (double rounding traps)
      std::uint32_t bits = static_cast<std::uint32_t>(rng()) & 0x7F7FFFFFu;
      float f, g;
      std::memcpy(&f, &bits, 4);
      g = std::nextafter(f, INFINITY);
      const double mid = (static_cast<double>(f) + static_cast<double>(g)) / 2;
      std::snprintf(buf, sizeof buf, "%.*g", 9 + static_cast<int>(rng() % 9), mid);
    } else if (kind == 1) {  // a double midpoint
      std::uint64_t bits = rng() & 0x7FEFFFFFFFFFFFFFull;
      double d;
      std::memcpy(&d, &bits, 8);
      std::snprintf(buf, sizeof buf, "%.*e", 16 + static_cast<int>(rng() % 6), d);
    } else if (kind == 2) {  // short plain decimals, the common case
      std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(rng() % 10),
                    (static_cast<double>(rng() % 2000000000) - 1e9) / static_cast<double>(1 + rng() % 100000));
    } else if (kind == 3) {  // a random float printed shortest-ish
      std::uint32_t bits = static_cast<std::uint32_t>(rng());
      float f;
      std::memcpy(&f, &bits, 4);
      if (!std::isfinite(f)) continue;
      std::snprintf(buf, sizeof buf, "%.*g", 6 + static_cast<int>(rng() % 4), f);
    } else {  // many digits with exponents
      std::string s = (rng() % 2) ? "-" : "";
      const int n = 1 + static_cast<int>(rng() % 24);
      for (int k = 0; k < n; ++k) s += static_cast<char>('0' + rng() % 10);
      if (rng() % 2) s.insert(s.size() - static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(n)), ".");
      if (rng() % 2) s += "e" + std::to_string(static_cast<int>(rng() % 90) - 45);
      out.push_back(s);
      continue;
    }
    out.emplace_back(buf);
  }
  return out;
}

// What the reader must give: the correctly rounded value (from_chars), +-inf past the range.
template <class T>
T reference_value(const std::string& s) {
  T v{};
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  EXPECT_EQ(ptr, s.data() + s.size()) << s;
  if (ec == std::errc::result_out_of_range) v = static_cast<T>(std::strtod(s.c_str(), nullptr));
  return v;
}

template <class T>
void check_matrix_rounding(tb::dtype dtype) {
  std::mt19937_64 rng(5);
  const std::int64_t cols = 7;
  std::vector<std::string> numbers = hard_numbers(rng, 60000);
  numbers.resize(numbers.size() / cols * cols);
  const std::size_t used = numbers.size();
  std::string text;
  for (std::int64_t j = 0; j < cols; ++j) text += (j ? ",c" : "c") + std::to_string(j);
  text += "\n";
  for (std::size_t i = 0; i < used; ++i) text += numbers[i] + ((i + 1) % cols == 0 ? "\n" : ",");
  for (std::size_t block : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{97}}) {
    tb::csv_options o;
    o.dtype = tb::csv_column_type{tb::column_kind::tensor, dtype};
    o.block_size = block;
    tb::tensor m = tb::read_csv_string(text, o).to_tensor({}, dtype);
    ASSERT_EQ(m.shape(), (tb::shape_t{static_cast<std::int64_t>(used) / cols, cols}));
    const T* got = static_cast<const T*>(m.data());
    for (std::size_t i = 0; i < used; ++i) {
      const T want = reference_value<T>(numbers[i]);
      if (std::isnan(want)) {
        ASSERT_TRUE(std::isnan(got[i])) << numbers[i];
      } else {
        ASSERT_EQ(std::memcmp(&got[i], &want, sizeof(T)), 0)
            << numbers[i] << " read as " << got[i] << ", correctly rounded " << want << " (block " << block << ")";
      }
    }
  }
}

TEST(Csv, MatrixPathRoundsEveryNumberCorrectly) {
  for (const bool ssse3 : row_parser_settings()) {
    SCOPED_TRACE(ssse3 ? "SSSE3 rows" : "per-field path");
    const row_parser_scope scope(ssse3);
    check_matrix_rounding<float>(tb::dtype::float32);
    check_matrix_rounding<double>(tb::dtype::float64);
  }
}

// Rows of short numbers with every sign, digit count and point position: both row paths read them
// as from_chars does (through the matrix reader); where the CPU has SSSE3, the row parser itself
// answers for the plain rows and refuses the rows it must leave to the per-field path.
TEST(Csv, RowParsersReadShortNumbersAndRefuseTheRest) {
  std::mt19937_64 rng(19);
  std::string csv = "a,b,c,d\n";
  std::vector<float> want;
#if defined(TB_CSV_SSSE3_ROWS)
  const bool ssse3 = tb::detail::csv_ssse3_rows();
#endif
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::string> fields;
    std::string row;
    for (int j = 0; j < 4; ++j) {
      std::string f = rng() % 2 ? "-" : "";
      const int id = static_cast<int>(rng() % 9), fd = static_cast<int>(rng() % 9);
      for (int k = 0; k < id; ++k) f += static_cast<char>('0' + rng() % 10);
      if (fd > 0 || rng() % 4 == 0) f += '.';
      for (int k = 0; k < fd; ++k) f += static_cast<char>('0' + rng() % 10);
      row += (j ? "," : "") + f;
      fields.push_back(f);
    }
    row += "\n";
    bool numbers = true, plain = true;  // every field a number; and at most 15 bytes (the row path's form)
    for (const std::string& f : fields) {
      const bool digit = std::any_of(f.begin(), f.end(), [](char c) { return c >= '0' && c <= '9'; });
      numbers = numbers && digit;
      plain = plain && digit && f.size() < 16;
    }
    if (numbers) {
      csv += row;
      for (const std::string& f : fields) want.push_back(reference_value<float>(f));
    }
#if defined(TB_CSV_SSSE3_ROWS)
    if (!ssse3) continue;
    const std::string padded = row + std::string(32, '7');
    float got[4] = {};
    const char* end = tb::detail::csv_parse_row_ssse3(padded.data(), padded.data() + padded.size(), ',', 4, got);
    if (!plain) {
      ASSERT_EQ(end, nullptr) << row;
      continue;
    }
    bool midpoint = false;  // an exact float midpoint is left to the general parser
    for (int j = 0; j < 4 && end != nullptr; ++j) ASSERT_EQ(got[j], reference_value<float>(fields[static_cast<std::size_t>(j)])) << row;
    for (const std::string& f : fields) {
      const double d = std::strtod(f.c_str(), nullptr);
      midpoint = midpoint || (static_cast<double>(static_cast<float>(d)) != d &&
                              (std::bit_cast<std::uint64_t>(d) & ((std::uint64_t{1} << 29) - 1)) == (std::uint64_t{1} << 28));
    }
    if (!midpoint) ASSERT_EQ(end, padded.data() + row.size()) << row;
#endif
  }
  for (const bool rows : row_parser_settings()) {
    const row_parser_scope scope(rows);
    tb::csv_options o;
    o.dtype = tb::csv_column_type::from_name("float32");
    const tb::tensor m = tb::read_csv_string(csv, o).to_tensor({}, tb::dtype::float32);
    ASSERT_EQ(m.numel(), static_cast<std::int64_t>(want.size()));
    const float* got = static_cast<const float*>(m.data());
    for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << "value " << i << (rows ? " (SSSE3 rows)" : "");
  }
#if defined(TB_CSV_SSSE3_ROWS)
  if (!ssse3) return;
  const std::string refused[] = {"1e5,2,3,4\n", "1,+2,3,4\n", "1,2,3\n", "1,2,3,4,5\n", "1,2,3,4 \n", "1,\"2\",3,4\n",
                                 "1,,3,4\n", "1,2-3,3,4\n", "1,2..,3,4\n", "123456789,2,3,4\n", "1,2,3,0.123456789\n"};
  for (const std::string& row : refused) {
    const std::string padded = row + std::string(32, '7');
    float got[4];
    EXPECT_EQ(tb::detail::csv_parse_row_ssse3(padded.data(), padded.data() + padded.size(), ',', 4, got), nullptr) << row;
  }
  const std::string crlf = "1.5,-2,3.25,4\r\n" + std::string(32, '7');
  float got[4];
  EXPECT_EQ(tb::detail::csv_parse_row_ssse3(crlf.data(), crlf.data() + crlf.size(), ',', 4, got), crlf.data() + 15);
  EXPECT_EQ(got[1], -2.0f);
#endif
}

// The short SIMD parser must agree bit for bit with std::from_chars wherever it answers, and must
// answer for the common short forms.
template <class T>
void check_short_parser_agrees() {
  if constexpr (!tb::detail::csv_has_short_parser) {
    // Without SSE2 the short parser always defers to csv_parse_float.
    const std::string padded = "1.5,99999999999999999999999999999999";
    T v{};
    EXPECT_EQ(tb::detail::csv_parse_float_short(padded.data(), v), nullptr);
  } else {
    std::mt19937_64 rng(3);
    const std::vector<std::string> numbers = hard_numbers(rng, 200000);
    int answered = 0;
    for (const std::string& s : numbers) {
      std::string padded = s + ",9999999999999999999999999999999999";
      T fast{};
      const char* end = tb::detail::csv_parse_float_short(padded.data(), fast);
      if (end == nullptr) continue;
      ++answered;
      T slow = reference_value<T>(s);
      ASSERT_EQ(end, padded.data() + s.size()) << s;
      ASSERT_EQ(std::memcmp(&fast, &slow, sizeof(T)), 0) << s << " fast " << fast << " slow " << slow;
    }
    EXPECT_GT(answered, 30000);
  }
}

TEST(Csv, ShortFloatParserMatchesFromChars) {
  check_short_parser_agrees<float>();
  check_short_parser_agrees<double>();
}

// Float midpoints with few fraction digits ("8388608.5", "1048576.0625", and their neighbours one
// last digit away): the short parser's float product lands within a few ulps of the midpoint, so
// the exact division must decide. Each must equal from_chars and take the short path.
TEST(Csv, ShortFloatParserRoundsMidpointsExactly) {
  std::mt19937_64 rng(11);
  int checked = 0;
  std::vector<std::string> texts;
  for (int i = 0; i < 100000; ++i) {
    const int binade = 17 + static_cast<int>(rng() % 9);  // floats in [2^17, 2^26): <= 8 digits, midpoints <= 7 after the point
    const float f = std::ldexp(1.0f + static_cast<float>(rng() % (1u << 23)) / static_cast<float>(1u << 23), binade);
    const double mid = (static_cast<double>(f) + static_cast<double>(std::nextafter(f, INFINITY))) / 2;
    const int digits = std::max(0, 24 - binade) + static_cast<int>(rng() % 2);  // exact, or with a trailing zero
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%.*f", rng() % 2 ? "-" : "", digits, mid);
    std::string text = buf;
    if (rng() % 3 == 0 && text.back() != '.') {  // one last digit away from the midpoint, either side
      char& last = text.back();
      last = static_cast<char>(last == '0' ? '1' : (last == '9' ? '8' : last + (rng() % 2 ? 1 : -1)));
    }
    if (text.size() > 15) continue;
    const std::string padded = text + ",9999999999999999999999999999999999";
    float fast = 0;
    // Without SSE2 the general parser answers, correctly rounded as well.
    const char* end = tb::detail::csv_has_short_parser
                          ? tb::detail::csv_parse_float_short(padded.data(), fast)
                          : tb::detail::csv_parse_float(padded.data(), padded.data() + padded.size(), fast);
    const float want = reference_value<float>(text);
    if (end == nullptr) {  // only an exact midpoint goes on to the general parser
      ASSERT_EQ(std::abs(std::strtod(text.c_str(), nullptr)), mid) << text;
      continue;
    }
    ASSERT_EQ(end, padded.data() + text.size()) << text;
    ASSERT_EQ(std::memcmp(&fast, &want, sizeof want), 0) << text << " read as " << fast << ", correctly rounded " << want;
    ++checked;
    texts.push_back(text);
  }
  EXPECT_GT(checked, 25000);
  // The same numbers through the matrix path, with each row parser.
  texts.resize(texts.size() / 5 * 5);
  std::string csv = "a,b,c,d,e\n";
  for (std::size_t i = 0; i < texts.size(); ++i) csv += texts[i] + (i % 5 == 4 ? "\n" : ",");
  for (const bool ssse3 : row_parser_settings()) {
    const row_parser_scope scope(ssse3);
    tb::csv_options o;
    o.dtype = tb::csv_column_type::from_name("float32");
    const tb::tensor m = tb::read_csv_string(csv, o).to_tensor({}, tb::dtype::float32);
    const float* got = static_cast<const float*>(m.data());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const float want = reference_value<float>(texts[i]);
      ASSERT_EQ(std::memcmp(&got[i], &want, sizeof want), 0) << texts[i] << (ssse3 ? " (SSSE3 rows)" : "");
    }
  }
}

TEST(Csv, CountsLineFeedsLikeStdCount) {
  std::mt19937_64 rng(17);
  std::string text(20000, 'x');
  for (char& c : text) c = "\n\r,1x\xff"[rng() % 6];
  for (std::size_t len : {0, 1, 15, 16, 17, 255 * 16, 255 * 16 + 1, 256 * 16 + 5, 20000}) {
    for (std::size_t start : {0, 1, 7}) {
      const std::size_t n = std::min(len, text.size() - start);
      const char* b = text.data() + start;
      EXPECT_EQ(tb::detail::csv_count_line_feeds(b, b + n), static_cast<std::size_t>(std::count(b, b + n, '\n')))
          << "length " << n << " from " << start;
    }
  }
  const std::string feeds(10000, '\n');  // every lane at its limit
  EXPECT_EQ(tb::detail::csv_count_line_feeds(feeds.data(), feeds.data() + feeds.size()), feeds.size());
}

// Blocks parse into their rows of the output, found by counting line breaks first. Where a count
// is off (blank and comment lines, quoted line breaks, CR-only line ends, a last row without a line
// break, trailing blank lines), the result must still equal a one-block read, at every block size.
TEST(Csv, MatrixRowsAreRightWhereLineCountsAreOff) {
  for (const bool ssse3 : row_parser_settings()) {
    SCOPED_TRACE(ssse3 ? "SSSE3 rows" : "per-field path");
    const row_parser_scope scope(ssse3);
    std::mt19937_64 rng(13);
    for (const std::string& eol : {std::string("\n"), std::string("\r\n"), std::string("\r")}) {
      std::string text = "a,b,c" + eol;
      std::vector<float> want;
      for (int r = 0; r < 2000; ++r) {
        const int kind = static_cast<int>(rng() % 40);
        if (kind == 0) text += eol;  // blank line
        if (kind == 1) text += "# comment" + eol;
        const float x = static_cast<float>(r), y = static_cast<float>(rng() % 1000) / 8.0f;
        char buf[96];
        if (kind == 2) std::snprintf(buf, sizeof buf, "%g,\"%g\",\"line\nbreak\"", x, y);  // quoted break: NaN for text
        else std::snprintf(buf, sizeof buf, "%g,%g,%d", x, y, r % 7);
        text += buf;
        text += eol;
        want.insert(want.end(), {x, y, kind == 2 ? NAN : static_cast<float>(r % 7)});
      }
      for (const std::string& ending : {std::string(), eol + eol + eol, std::string("\n")}) {
        std::string t = text + ending;
        if (ending.empty()) t.resize(t.size() - eol.size());  // the last row without a line break
        for (std::size_t block : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{100}, std::size_t{7}}) {
          tb::csv_options o;
          o.dtype = tb::csv_column_type::from_name("float32");
          o.comment = '#';
          o.na_values = {"line\nbreak"};
          o.block_size = block;
          const tb::tensor m = tb::read_csv_string(t, o).to_tensor({}, tb::dtype::float32);
          ASSERT_EQ(m.shape(), (tb::shape_t{2000, 3})) << "block " << block;
          const float* got = static_cast<const float*>(m.data());
          for (std::size_t i = 0; i < want.size(); ++i) {
            if (std::isnan(want[i])) ASSERT_TRUE(std::isnan(got[i])) << i << " block " << block;
            else ASSERT_EQ(got[i], want[i]) << "value " << i << " block " << block << " line end " << eol.size() << " ending " << ending.size();
          }
        }
      }
    }
  }
}

// Rows the fast path must hand to the tokenizer: quoted numbers, missing values, blanks, CRLF, a
// literal quote, spaces, '+', comments; and a ragged row still fails with the row's line.
TEST(Csv, MatrixPathFallsBackForUnusualRows) {
  tb::csv_options o;
  o.dtype = tb::csv_column_type::from_name("float64");
  o.comment = '#';
  auto m = tb::read_csv_string("a,b,c\r\n1.5,\"2.5\",3\r\n,NA,nan\r\n\r\n +4,5 ,6e1 # note\n# whole line\n7,8,9", o)
               .to_tensor({}, tb::dtype::float64);
  ASSERT_EQ(m.shape(), (tb::shape_t{4, 3}));
  EXPECT_EQ(m.at<double>({0, 1}), 2.5);
  EXPECT_TRUE(std::isnan(m.at<double>({1, 0})) && std::isnan(m.at<double>({1, 1})) && std::isnan(m.at<double>({1, 2})));
  EXPECT_EQ(m.at<double>({2, 0}), 4.0);
  EXPECT_EQ(m.at<double>({2, 2}), 60.0);
  EXPECT_EQ(m.at<double>({3, 2}), 9.0);
  tb::csv_options f;
  f.dtype = tb::csv_column_type::from_name("float32");
  const std::string e = error_of("a,b\n1,2\n3,4\n5,6,7\n8,9\n", f);
  EXPECT_NE(e.find("<string>:4"), std::string::npos) << e;
  const std::string v = error_of("a,b\n1,2\n3,x4\n", f);
  EXPECT_NE(v.find("<string>:3:2"), std::string::npos) << v;
  f.usecols = {"b"};
  auto u = tb::read_csv_string("a,b\n\"x,y\",2\n1,3\n", f).to_tensor({}, tb::dtype::float32);
  ASSERT_EQ(u.shape(), (tb::shape_t{2, 1}));
  EXPECT_EQ(u.at<float>({0, 0}), 2.0f);
  EXPECT_EQ(u.at<float>({1, 0}), 3.0f);
}

}  // namespace

TEST(Csv, IntegersBeyondInt64AreUint64OrStrings) {
  auto t = tb::read_csv_string("a,b,c\n12345678901234567891,-1,99999999999999999999999\n12345678901234567893,"
                               "12345678901234567891,1\n");
  EXPECT_EQ(t.at("a").values.dtype(), tb::dtype::uint64);
  EXPECT_EQ(value<std::uint64_t>(t, "a", 0), 12345678901234567891ull);
  EXPECT_EQ(value<std::uint64_t>(t, "a", 1), 12345678901234567893ull);
  EXPECT_EQ(t.at("b").kind, tb::column_kind::strings);  // no integer type holds -1 and the big value
  EXPECT_EQ(t.at("b").strings[1], "12345678901234567891");
  EXPECT_EQ(t.at("c").kind, tb::column_kind::strings);  // beyond uint64
}

TEST(Csv, ThousandsDecimalNrows) {
  tb::csv_options o;
  o.sep = ';';
  o.thousands = '.';
  o.decimal = ',';
  auto t = tb::read_csv_string("x;s\n\"1.234,5\";a.b\n-0,25;c\n", o);
  EXPECT_EQ(value<double>(t, "x", 0), 1234.5);
  EXPECT_EQ(value<double>(t, "x", 1), -0.25);
  EXPECT_EQ(t.at("s").strings[0], "a.b");  // text keeps its separators
  o.dtype = tb::csv_column_type::from_name("float32");
  o.dtypes = {{"s", tb::csv_column_type::from_name("str")}};
  EXPECT_EQ(value<float>(tb::read_csv_string("x;s\n\"1.234,5\";a\n", o), "x", 0), 1234.5f);

  tb::csv_options n;
  n.nrows = 2;
  EXPECT_EQ(tb::read_csv_string("a\n1\n2\n3\n", n).num_rows(), 2);
  n.nrows = 0;
  auto empty = tb::read_csv_string("a,b\n1,2\n", n);
  EXPECT_EQ(empty.num_rows(), 0);
  EXPECT_EQ(empty.names(), (std::vector<std::string>{"a", "b"}));
  n.nrows = -1;
  EXPECT_THROW(n.validate(), tb::error);
  tb::csv_options same;
  same.thousands = '.';
  EXPECT_THROW(same.validate(), tb::error);  // equal to the decimal mark
}

TEST(Csv, SepNoneDetectsTheDelimiter) {
  tb::csv_options o;
  o.sep = '\0';
  auto t = tb::read_csv_string("a|b\n\"x|y\"|2\n3|4\n", o);
  EXPECT_EQ(t.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t.at("a").strings[0], "x|y");
  EXPECT_NE(error_of("a,b\n1;2\n", o).find("cannot detect the delimiter"), std::string::npos);
}

TEST(Csv, BoolDtypeReadsOneAndZero) {
  tb::csv_options o;
  o.dtype = tb::csv_column_type::from_name("bool");
  auto t = tb::read_csv_string("a\n1\n0\nTrue\n", o);
  EXPECT_TRUE(value<bool>(t, "a", 0));
  EXPECT_FALSE(value<bool>(t, "a", 1));
  EXPECT_NE(error_of("a\n2\n", o).find("True/False, true/false, TRUE/FALSE or 1/0"), std::string::npos);
}

TEST(Table, ToTensorCommonTypeMissingValuesAndCasting) {
  tb::csv_options o;
  o.dtypes = {{"i", tb::csv_column_type::from_name("int64")}};
  auto t = tb::read_csv_string("i,b,f\n1,True,-2.16e69\n,False,0.5\n", o);
  const std::vector<std::string> ib{"i", "b"};
  tb::tensor m = t.to_tensor(ib);
  EXPECT_EQ(m.dtype(), tb::dtype::float64);  // int64 with a missing value: NaN needs a float
  EXPECT_TRUE(std::isnan(m.at<double>({1, 0})));
  EXPECT_EQ(m.at<double>({1, 1}), 0.0);
  tb::to_tensor_options fill;
  fill.fill_value = -1;
  EXPECT_EQ(t.to_tensor(ib, fill).dtype(), tb::dtype::int64);  // bool + int64 -> int64
  EXPECT_EQ(t.to_tensor(ib, fill).at<std::int64_t>({1, 0}), -1);
  try {
    t.to_tensor(ib, tb::dtype::int64);
    ADD_FAILURE();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::value);
    EXPECT_NE(std::string(e.what()).find("column \"i\" has a missing value at row 1"), std::string::npos) << e.what();
  }
  const std::vector<std::string> f{"f"};
  EXPECT_EQ(t.to_tensor(f).dtype(), tb::dtype::float64);
  tb::to_tensor_options narrow;
  narrow.dtype = tb::dtype::float32;
  narrow.checked = true;
  try {
    t.to_tensor(f, narrow);
    ADD_FAILURE();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::overflow);
    EXPECT_NE(std::string(e.what()).find("column \"f\", row 0"), std::string::npos) << e.what();
  }
}
