// The streamed CSV read (what read_csv does with a remote object: rows parse as batches arrive)
// gives exactly what a whole-text read gives, whatever the batch size: types inferred over the
// whole file (pieces that saw other types are read again), masks, quoted line breaks across batch
// ends, categorical vocabularies, the fused float matrix, and the same errors.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "io/csv/streamed_internal.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/csv.hpp"

namespace {

tb::table streamed(const std::string& text, std::size_t batch, const tb::csv_options& o = {}) {
  auto in = tb::detail::memory_stream(std::as_bytes(std::span<const char>(text.data(), text.size())), "t.csv");
  return tb::detail::read_csv_streamed(*in, text.size() / 3, batch, o);
}

void expect_same(const tb::table& a, const tb::table& b, const std::string& how) {
  ASSERT_EQ(a.names(), b.names()) << how;
  ASSERT_EQ(a.num_rows(), b.num_rows()) << how;
  for (std::size_t j = 0; j < a.columns().size(); ++j) {
    const tb::column& x = a.columns()[j];
    const tb::column& y = b.columns()[j];
    const std::string at = how + ", column " + x.name;
    ASSERT_EQ(x.kind, y.kind) << at;
    EXPECT_EQ(x.strings, y.strings) << at;
    if (x.kind != tb::column_kind::strings) {
      ASSERT_EQ(x.values.dtype(), y.values.dtype()) << at;
      const tb::tensor u = x.values.contiguous(), v = y.values.contiguous();
      EXPECT_EQ(std::memcmp(u.data(), v.data(), u.nbytes()), 0) << at;
    }
    ASSERT_EQ(x.valid.has_value(), y.valid.has_value()) << at;
    if (x.valid) {
      const tb::tensor u = x.valid->contiguous(), v = y.valid->contiguous();
      EXPECT_EQ(std::memcmp(u.data(), v.data(), u.nbytes()), 0) << at;
    }
  }
}

void expect_same_as_whole(const std::string& text, const tb::csv_options& o, const std::string& name) {
  const tb::table whole = tb::read_csv_string(text, o);
  for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{1000}, text.size() + 1})
    expect_same(streamed(text, batch, o), whole, name + ", batch " + std::to_string(batch));
}

std::string rows_of(int n, const std::string& row) {
  std::string s;
  for (int i = 0; i < n; ++i) s += row;
  return s;
}

TEST(CsvStreamed, TypesOfTheWholeFileNotOfTheFirstBatch) {
  // ints first; a float, a text value, missing values and bools only later.
  std::string text = "i,f,s,b,m\n" + rows_of(40, "1,2,3,True,4\n") + "5,2.5,x,False,\n" + rows_of(40, "6,7,8,true,9\n");
  expect_same_as_whole(text, {}, "mixed");
  const tb::table t = streamed(text, 16);
  EXPECT_EQ(t.at("i").values.dtype(), tb::dtype::int64);
  EXPECT_EQ(t.at("f").values.dtype(), tb::dtype::float64);
  EXPECT_EQ(t.at("s").kind, tb::column_kind::strings);
  EXPECT_EQ(t.at("m").values.dtype(), tb::dtype::float64);
  // uint64 beyond int64, then a negative number: strings, as pandas reads them.
  expect_same_as_whole("u\n18446744073709551615\n" + rows_of(30, "1\n") + "-1\n", {}, "uint64");
  // A bool column with a missing value keeps bools and gets a mask.
  expect_same_as_whole("b,x\n" + rows_of(30, "True,1\n") + ",2\n" + rows_of(30, "False,3\n"), {}, "bool mask");
}

TEST(CsvStreamed, QuotedLineBreaksAcrossBatchEnds) {
  std::string text = "id,note\n";
  for (int i = 0; i < 50; ++i) text += std::to_string(i) + ",\"line one\nline, two\n\"\"quoted\"\"\"\n";
  expect_same_as_whole(text, {}, "quoted");
  tb::csv_options escaped;
  escaped.escapechar = '\\';
  expect_same_as_whole("a,b\n" + rows_of(30, "1,x\\,y\n2,\"p\nq\"\n"), escaped, "escapes");
}

TEST(CsvStreamed, DialectsHeadersAndOptions) {
  const std::string numbers = "x;y;z\r\n" + rows_of(60, "1.5;-2;3e4\r\n") + "\r\n\r\n";
  tb::csv_options sniff;
  sniff.sep = '\0';
  expect_same_as_whole(numbers, sniff, "sep=None, CRLF, trailing blank lines");
  tb::csv_options none;
  none.header = tb::csv_options::header_none;
  expect_same_as_whole(rows_of(50, "1,2,3\n"), none, "no header");
  expect_same_as_whole("\xEF\xBB\xBF" "a,b\n" + rows_of(50, "# note\n1,2\n"), [] {
    tb::csv_options o;
    o.comment = '#';
    return o;
  }(), "BOM and comments");
  tb::csv_options some;
  some.usecols = {"c", "a"};
  some.skiprows = 1;
  expect_same_as_whole("junk line\na,b,c\n" + rows_of(50, "1,x,2.5\n"), some, "usecols, skiprows");
  expect_same_as_whole("a,b\n" + rows_of(50, "1,2\n") + "3,4", {}, "no final line break");
}

TEST(CsvStreamed, FloatMatrixAndCategorical) {
  std::string text = "a,b,c\n";
  for (int i = 0; i < 200; ++i) text += std::to_string(i * 0.25) + "," + std::to_string(-i) + ",nan\n";
  tb::csv_options f32;
  f32.dtype = tb::csv_column_type{tb::column_kind::tensor, tb::dtype::float32};
  expect_same_as_whole(text, f32, "float32 matrix");
  const tb::table m = streamed(text, 100, f32);
  EXPECT_EQ(m.to_tensor({}, tb::dtype::float32).data(), m.columns()[0].values.data());  // one matrix, no copy
  tb::csv_options cat;
  cat.dtypes = {{"k", tb::csv_column_type{tb::column_kind::categorical, tb::dtype::int32}}};
  expect_same_as_whole("k,v\n" + rows_of(30, "dog,1\n") + "cat,2\n,3\n" + rows_of(30, "emu,4\n"), cat, "categorical");
}

TEST(CsvStreamed, SameErrors) {
  auto error_of = [](auto read) -> std::string {
    try {
      read();
    } catch (const tb::error& e) {
      return e.what();
    }
    return "no error";
  };
  const std::vector<std::string> bad = {"", "a,b\n", "a,b\n" + rows_of(40, "1,2\n") + "1,2,3\n",
                                        "a,b\n" + rows_of(40, "1,2\n") + "1,\"open\n"};
  for (const auto& text : bad) {
    const std::string whole = error_of([&] { tb::read_csv_string(text, {}); });
    ASSERT_NE(whole, "no error") << text;
    for (std::size_t batch : {std::size_t{5}, std::size_t{100}}) {
      std::string got = error_of([&] { streamed(text, batch); });
      // The whole-text read names "<string>", the stream its name.
      const auto at = whole.find("<string>");
      std::string expected = whole;
      if (at != std::string::npos) expected.replace(at, 8, "t.csv");
      EXPECT_EQ(got, expected) << "batch " << batch;
    }
  }
}

}  // namespace
