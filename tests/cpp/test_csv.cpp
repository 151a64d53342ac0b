#include <gtest/gtest.h>

#include "io_test_support.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "tensorbridge/csv.hpp"
#include "tensorbridge/threads.hpp"

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
    EXPECT_EQ(e.kind(), tb::error_kind::io);
  }
  std::remove(path.c_str());
}

}  // namespace

#include <charconv>

#include "io/csv_converter_internal.hpp"

namespace {

// The fast decimal parser must agree bit for bit with std::from_chars wherever it answers.
template <class T>
void check_fast_parser_agrees() {
  std::mt19937_64 rng(11);
  int answered = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    if (rng() % 2) s += '-';
    const int int_digits = static_cast<int>(rng() % 10);
    const int frac_digits = static_cast<int>(rng() % 12);
    for (int k = 0; k < int_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (frac_digits > 0 || rng() % 4 == 0) s += '.';
    for (int k = 0; k < frac_digits; ++k) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 5 == 0) s += "e" + std::to_string(static_cast<int>(rng() % 60) - 30);
    T fast{}, slow{};
    const char* end = tb::detail::csv_parse_float_fast(s.data(), s.data() + s.size(), fast);
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), slow);
    if (end == nullptr) continue;
    ++answered;
    ASSERT_EQ(end, ptr) << s;
    ASSERT_EQ(ec, std::errc{}) << s;
    ASSERT_EQ(std::memcmp(&fast, &slow, sizeof(T)), 0) << s << " fast " << fast << " slow " << slow;
  }
  EXPECT_GT(answered, 100000);
}

TEST(Csv, FastFloatParserMatchesFromChars) {
  check_fast_parser_agrees<float>();
  check_fast_parser_agrees<double>();
}

}  // namespace
