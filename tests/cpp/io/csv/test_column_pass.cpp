// The column path in one pass: inference keeps the values it converts, block by block, and widens or
// drops them as a column's type turns out. Compared here with converting the text again with each
// column's type given (which keeps nothing), on columns whose type changes within and across blocks.

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tensorbridge/io/csv.hpp"

namespace {

// One cell of kind `kind`.
std::string cell(std::mt19937_64& rng, int kind) {
  switch (kind) {
    case 0: return std::to_string(static_cast<std::int64_t>(rng() % 2000001) - 1000000);
    case 1: return std::to_string(static_cast<std::int64_t>(rng()));  // all of int64, both signs
    case 2: return std::to_string(rng() | (std::uint64_t{1} << 63));  // beyond int64
    case 3: return (rng() % 2 ? "-" : "") + std::to_string(rng()) + "123456";  // beyond uint64
    case 4: {
      char buf[32];
      const double v = std::ldexp(static_cast<double>(rng() >> 11), static_cast<int>(rng() % 200) - 120);
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rng() % 2 ? -v : v);
      return std::string(buf, end);
    }
    case 5: return "-0";
    case 6: return rng() % 2 ? " +7 " : "-00012";
    case 7: return "";
    case 8: return "NA";
    case 9: return rng() % 2 ? "nan" : "-nan";
    case 10: return "NAN";  // a NaN, but not a missing-value string
    case 11: return rng() % 2 ? "True" : "false";
    case 12: return rng() % 2 ? "word" : "\"quoted, text\"";
    case 13: return "-0.0";
    default: return "1e5";
  }
}

struct plan {
  int base, rare;  // kinds; `rare` is one cell in about 150 (-1: none)
};

std::string make_text(std::mt19937_64& rng, const std::vector<plan>& plans, int rows) {
  std::string text;
  for (std::size_t j = 0; j < plans.size(); ++j) text += (j ? ",c" : "c") + std::to_string(j);
  text += '\n';
  for (int r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < plans.size(); ++j) {
      if (j) text += ',';
      const plan p = plans[j];
      text += cell(rng, p.rare >= 0 && rng() % 150 == 0 ? p.rare : p.base);
    }
    text += '\n';
  }
  return text;
}

bool all_valid(const std::optional<tb::tensor>& valid, std::int64_t rows) {
  if (!valid) return true;
  const bool* v = static_cast<const bool*>(valid->data());
  return std::all_of(v, v + rows, [](bool b) { return b; });
}

// `got` (types inferred) equals `want` (the same types given): kinds, dtypes, bytes, masks, strings.
void expect_same(const tb::table& got, const tb::table& want) {
  ASSERT_EQ(got.num_rows(), want.num_rows());
  ASSERT_EQ(got.num_columns(), want.num_columns());
  const std::int64_t rows = got.num_rows();
  for (std::int64_t j = 0; j < got.num_columns(); ++j) {
    const tb::column& a = got.at(j);
    const tb::column& b = want.at(j);
    ASSERT_EQ(a.kind, b.kind) << a.name;
    if (a.kind == tb::column_kind::tensor) {
      ASSERT_EQ(a.values.dtype(), b.values.dtype()) << a.name;
      EXPECT_EQ(std::memcmp(a.values.data(), b.values.data(), static_cast<std::size_t>(a.values.nbytes())), 0)
          << a.name;
    } else {
      EXPECT_EQ(a.strings, b.strings) << a.name;
    }
    // A mask of only true values says what no mask says (inference may see a NaN a given type does not).
    if (a.valid && b.valid) {
      EXPECT_EQ(std::memcmp(a.valid->data(), b.valid->data(), static_cast<std::size_t>(rows)), 0) << a.name;
    } else {
      EXPECT_TRUE(all_valid(a.valid, rows) && all_valid(b.valid, rows)) << a.name;
    }
  }
}

tb::csv_options given_types(const tb::table& t, tb::csv_options o) {
  for (std::int64_t j = 0; j < t.num_columns(); ++j) {
    const tb::column& c = t.at(j);
    o.dtypes.emplace_back(c.name, c.kind == tb::column_kind::tensor
                                      ? tb::csv_column_type{tb::column_kind::tensor, c.values.dtype()}
                                      : tb::csv_column_type::from_name("str"));
  }
  return o;
}

const std::vector<plan> plans = {
    {0, -1}, {1, -1}, {0, 4},  {0, 5},   {5, 4},   {0, 7},  {2, 0},  {2, 1}, {0, 3},  {4, 3},  {2, 4},
    {11, 7}, {11, 0}, {12, 7}, {0, 12},  {7, 0},   {7, 12}, {4, 9},  {0, 10}, {6, 13}, {7, -1}, {3, 0},
    {1, 2},  {7, 11}, {8, 4},  {12, -1}, {10, 0},  {9, 1},  {13, 0}, {6, -1}, {1, 14}, {11, 8}, {2, 8},
};

TEST(CsvColumnPass, InferredEqualsGivenTypesAcrossBlocks) {
  std::mt19937_64 rng(5);
  for (const std::size_t block_size : {std::size_t{97}, std::size_t{1000}, std::size_t{1} << 20}) {
    for (int round = 0; round < 3; ++round) {
      const std::string text = make_text(rng, plans, 1500);
      tb::csv_options o;
      o.block_size = block_size;
      const tb::table inferred = tb::read_csv_string(text, o);
      const tb::table given = tb::read_csv_string(text, given_types(inferred, o));
      expect_same(inferred, given);
      if (HasFailure()) return;
    }
  }
}

// A missing-value string that is a number: nothing is kept, every column is converted again.
TEST(CsvColumnPass, NumericMissingValuesConvertAgain) {
  std::mt19937_64 rng(6);
  tb::csv_options o;
  o.block_size = 500;
  o.na_values = {"7", "-0"};
  const std::string text = make_text(rng, plans, 800);
  const tb::table inferred = tb::read_csv_string(text, o);
  expect_same(inferred, tb::read_csv_string(text, given_types(inferred, o)));
}

TEST(CsvColumnPass, WidenedIntegersKeepTheirExactValue) {
  tb::csv_options o;
  o.block_size = 16;  // a block per row or two
  const auto t = tb::read_csv_string(
      "a,b,c,d\n-0,9007199254740993,18446744073709551615,1\n1,2,3,NA\n2.5,1.5,0.5,\n", o);
  for (const char* name : {"a", "b", "c", "d"}) ASSERT_EQ(t.at(name).values.dtype(), tb::dtype::float64) << name;
  const auto* a = static_cast<const double*>(t.at("a").values.data());
  EXPECT_TRUE(std::signbit(a[0]) && a[0] == 0.0);  // "-0" read as a float, not as the integer 0
  EXPECT_EQ(static_cast<const double*>(t.at("b").values.data())[0], 9007199254740992.0);  // ties to even
  EXPECT_EQ(static_cast<const double*>(t.at("c").values.data())[0], 18446744073709551616.0);
  const auto* d = static_cast<const double*>(t.at("d").values.data());
  EXPECT_EQ(d[0], 1.0);
  EXPECT_TRUE(std::isnan(d[1]) && std::isnan(d[2]));
  // Kept as integers when no float comes: int64, and uint64 beyond int64.
  const auto u = tb::read_csv_string("u,i\n18446744073709551615,-0\n5,-9223372036854775808\n", o);
  EXPECT_EQ(u.at("u").values.dtype(), tb::dtype::uint64);
  EXPECT_EQ(static_cast<const std::uint64_t*>(u.at("u").values.data())[0], 18446744073709551615u);
  EXPECT_EQ(u.at("i").values.dtype(), tb::dtype::int64);
  EXPECT_EQ(static_cast<const std::int64_t*>(u.at("i").values.data())[1], INT64_MIN);
}

// "-0" beside values beyond int64: the column is uint64, which refuses "-0", inferred or given.
TEST(CsvColumnPass, NegativeZeroInAUint64ColumnFailsAsWithTheTypeGiven) {
  for (const char* text : {"u\n18446744073709551615\n-0\n", "u\n-0\n18446744073709551615\n"}) {
    tb::csv_options o;
    std::string inferred, given;
    try {
      (void)tb::read_csv_string(text, o);
    } catch (const tb::error& e) {
      inferred = e.what();
    }
    o.dtypes.emplace_back("u", tb::csv_column_type::from_name("uint64"));
    try {
      (void)tb::read_csv_string(text, o);
    } catch (const tb::error& e) {
      given = e.what();
    }
    EXPECT_NE(inferred.find(": expected an integer (uint64) in column \"u\", found \"-0\""), std::string::npos) << inferred;
    EXPECT_EQ(inferred, given);
  }
}

// Rows of settled columns (int64, float64, text) are read straight from the text (`fast_row`); a
// row holding anything else in any field is read by the tokenizer. Every such case, at random rows
// and in every column, read with types inferred equals the same text read with the types given (which
// never takes the fast rows), for both line endings, three block sizes, all columns or some.
TEST(CsvColumnPass, FastRowsReadWhatTheTokenizerReads) {
  const std::vector<std::string> odd = {"-0", "nan", "NA", "", "\"q, 1\"", "ab\"c", " 5", "+5", "1e5", "7.", ".5",
                                        "0x1", "5 ", "True", "18446744073709551615", "-1.5e-320", "inf", "12345678901234567890123"};
  std::mt19937_64 rng(9);
  for (const char* eol : {"\n", "\r\n"}) {
    std::string text = "i,f,s,d,g";
    text += eol;
    for (int r = 0; r < 3000; ++r) {
      std::string cells[5] = {std::to_string(static_cast<std::int64_t>(rng() % 2000001) - 1000000),
                              std::to_string(static_cast<double>(rng() % 100000) / 7.0), rng() % 2 ? "alpha" : "beta",
                              "2000-01-" + std::to_string(10 + rng() % 20), std::to_string(rng() % 1000) + ".25"};
      if (rng() % 40 == 0) cells[rng() % 5] = odd[rng() % odd.size()];
      for (int j = 0; j < 5; ++j) text += (j ? "," : "") + cells[j];
      text += eol;
    }
    for (const std::size_t block_size : {std::size_t{97}, std::size_t{4096}, std::size_t{1} << 20}) {
      for (const bool some : {false, true}) {
        tb::csv_options o;
        o.block_size = block_size;
        if (some) o.usecols = {"f", "d", "g"};
        const tb::table inferred = tb::read_csv_string(text, o);
        expect_same(inferred, tb::read_csv_string(text, given_types(inferred, o)));
        if (HasFailure()) return;
      }
    }
  }
}

// Values go straight into the table's columns at the rows counted in each block beforehand; where a
// count is off (blank lines, line breaks inside quotes, trailing blank lines) they are copied instead.
// Either way the table holds the values in file order.
TEST(CsvColumnPass, ValuesLandInTheirRowsWhateverTheCountsSay) {
  for (int variant = 0; variant < 4; ++variant) {
    std::string text = "i,f,s,w\n";
    std::vector<std::int64_t> want_i;
    std::vector<double> want_f;
    for (int r = 0; r < 2000; ++r) {
      want_i.push_back(r * 7 - 3000);
      want_f.push_back(r + (r % 3 == 0 ? 0.5 : 0.25));
      const std::string s = variant == 1 && r % 97 == 5 ? "\"two\nlines\"" : "t" + std::to_string(r % 5);
      char f[32];
      std::snprintf(f, sizeof f, "%.2f", want_f.back());
      text += std::to_string(want_i.back()) + "," + f + "," + s + "," + (r % 2 ? "1.5" : "7") + "\n";
      if (variant == 2 && r % 89 == 3) text += "\n";  // a blank line
    }
    if (variant == 3) text += "\n\n\n";
    for (const std::size_t block_size : {std::size_t{97}, std::size_t{4096}, std::size_t{1} << 20}) {
      tb::csv_options o;
      o.block_size = block_size;
      const tb::table t = tb::read_csv_string(text, o);
      ASSERT_EQ(t.num_rows(), 2000) << variant;
      ASSERT_EQ(t.at("i").values.dtype(), tb::dtype::int64);
      ASSERT_EQ(t.at("w").values.dtype(), tb::dtype::float64);
      const auto* i = static_cast<const std::int64_t*>(t.at("i").values.data());
      const auto* f = static_cast<const double*>(t.at("f").values.data());
      const auto* w = static_cast<const double*>(t.at("w").values.data());
      for (std::size_t r = 0; r < 2000; ++r) {
        ASSERT_EQ(i[r], want_i[r]) << variant << " " << block_size << " " << r;
        ASSERT_EQ(f[r], want_f[r]) << variant << " " << block_size << " " << r;
        ASSERT_EQ(w[r], r % 2 ? 1.5 : 7.0) << variant << " " << block_size << " " << r;
      }
      expect_same(t, tb::read_csv_string(text, given_types(t, o)));
      if (HasFailure()) return;
    }
  }
}

// A settled text column meeting invalid UTF-8, a ragged row or a comment after its fast rows: the same
// errors and rows as the tokenizer gives.
TEST(CsvColumnPass, FastRowsLeaveErrorsAndCommentsToTheTokenizer) {
  std::string rows = "a,b\n";
  for (int r = 0; r < 200; ++r) rows += std::to_string(r) + ",word" + std::to_string(r) + "\n";
  const auto error_of = [](const std::string& text, const tb::csv_options& o) {
    try {
      (void)tb::read_csv_string(text, o);
    } catch (const tb::error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  tb::csv_options o;
  EXPECT_NE(error_of(rows + "7,\xff\xfe\n" + rows.substr(4), o).find("<string>:202:2: invalid UTF-8 in column \"b\""),
            std::string::npos);
  EXPECT_NE(error_of(rows + "7\n" + rows.substr(4), o).find("<string>:202: expected 2 fields (as in the header) but found 1"),
            std::string::npos);
  EXPECT_NE(error_of(rows + "7,x,y\n", o).find("<string>:202: expected 2 fields (as in the header) but found 3"),
            std::string::npos);
  // "-0" among fast integer rows, then a float: the column becomes float64 and that row -0.0.
  const tb::table z = tb::read_csv_string(rows + "-0,x\n0.5,y\n" + rows.substr(4), o);
  ASSERT_EQ(z.at("a").values.dtype(), tb::dtype::float64);
  const double minus_zero = static_cast<const double*>(z.at("a").values.data())[200];
  EXPECT_TRUE(minus_zero == 0.0 && std::signbit(minus_zero));
  // A column left out by usecols holding a quoted delimiter and line break: split naively, the row
  // would look whole ("7", "\"x", "y") and the next line would start inside the quotes.
  {
    std::string text = "a,b,c\n";
    for (int r = 0; r < 200; ++r) text += std::to_string(r) + ",w,t" + std::to_string(r) + "\n";
    text += "7,\"x,y\nz\",tail\n" + text.substr(6);
    tb::csv_options u;
    u.usecols = {"a", "c"};
    const tb::table t = tb::read_csv_string(text, u);
    ASSERT_EQ(t.num_rows(), 401);
    EXPECT_EQ(t.at("c").strings[200], "tail");
    EXPECT_EQ(t.at("c").strings[201], "t0");
  }
  o.comment = '#';
  const tb::table t = tb::read_csv_string(rows + "7,x#note\n8,y\n", o);
  ASSERT_EQ(t.num_rows(), 202);
  EXPECT_EQ(t.at("b").strings[200], "x");
  EXPECT_EQ(static_cast<const std::int64_t*>(t.at("a").values.data())[201], 8);
}

// Errors found in the one pass name the place as the two passes did.
TEST(CsvColumnPass, ErrorsNameLineAndColumn) {
  tb::csv_options o;
  o.block_size = 16;
  try {
    (void)tb::read_csv_string("a,b\n1,x\n2,\xff\xfe\n", o);
    ADD_FAILURE() << "invalid UTF-8 was read";
  } catch (const tb::error& e) {
    EXPECT_NE(std::string(e.what()).find("<string>:3:2: invalid UTF-8 in column \"b\""), std::string::npos) << e.what();
  }
  try {
    (void)tb::read_csv_string("a,b\nTrue,1\nNAN,2\n", o);  // a bool column holding a NaN that is not missing
    ADD_FAILURE() << "NAN was read as a bool";
  } catch (const tb::error& e) {
    EXPECT_NE(std::string(e.what()).find("<string>:3:1: expected a bool"), std::string::npos) << e.what();
  }
}

}  // namespace
