#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/io/arrow_table.hpp"

TEST(ArrowTable, RoundTripThroughStream) {
  tb::table t;
  tb::tensor x = tb::tensor::zeros({3}, tb::dtype::float64);
  tb::tensor valid = tb::tensor::zeros({3}, tb::dtype::bool_);
  static_cast<bool*>(valid.data())[0] = true;
  t.add_column(tb::column{"x", tb::column_kind::tensor, x, {}, valid, ""});
  // A short validity bitmap beside string buffers: each must keep its address (a defect once).
  tb::tensor svalid = tb::tensor::zeros({3}, tb::dtype::bool_);
  static_cast<bool*>(svalid.data())[0] = true;
  static_cast<bool*>(svalid.data())[1] = true;
  t.add_column(tb::column{"s", tb::column_kind::strings, tb::tensor(), {"a", "bb", ""}, svalid, ""});
  tb::tensor codes = tb::tensor::zeros({3}, tb::dtype::int32);
  static_cast<std::int32_t*>(codes.data())[2] = 1;
  t.add_column(tb::column{"c", tb::column_kind::categorical, codes, {"lo", "hi"}, std::nullopt, ""});
  tb::tensor when = tb::tensor::zeros({3}, tb::dtype::int64);
  t.add_column(tb::column{"t", tb::column_kind::tensor, when, {}, std::nullopt, "datetime64[us]", "UTC"});
  tb::arrow_array_stream st{};
  tb::table_to_arrow_stream(t, &st);
  tb::table back = tb::table_from_arrow_stream(&st);
  EXPECT_EQ(st.release, nullptr);
  ASSERT_EQ(back.num_columns(), 4);
  EXPECT_EQ(back.at("x").values.data(), x.data());
  ASSERT_TRUE(back.at("x").valid.has_value());
  EXPECT_TRUE(back.at("x").valid->at<bool>({0}));
  EXPECT_FALSE(back.at("x").valid->at<bool>({1}));
  EXPECT_EQ(back.at("s").strings, (std::vector<std::string>{"a", "bb", ""}));
  ASSERT_TRUE(back.at("s").valid.has_value());
  EXPECT_TRUE(back.at("s").valid->at<bool>({1}));
  EXPECT_FALSE(back.at("s").valid->at<bool>({2}));
  EXPECT_EQ(back.at("c").kind, tb::column_kind::categorical);
  EXPECT_EQ(back.at("c").strings, (std::vector<std::string>{"lo", "hi"}));
  EXPECT_EQ(back.at("c").values.at<std::int32_t>({2}), 1);
  EXPECT_EQ(back.at("t").time_type, "datetime64[us]");
  EXPECT_EQ(back.at("t").timezone, "UTC");
}

TEST(ArrowTable, FixedSizeListColumnsBecomeStridedViews) {
  tb::tensor m = tb::tensor::empty({3, 2}, tb::dtype::int32);
  for (int i = 0; i < 6; ++i) static_cast<std::int32_t*>(m.data())[i] = i;
  std::vector<tb::arrow_column> cols(1);
  cols[0].name = "e";
  cols[0].values = m;
  tb::arrow_schema s{};
  tb::arrow_array a{};
  tb::export_arrow_columns(cols, &s, &a);
  tb::table t = tb::table_from_arrow(&s, &a);
  ASSERT_EQ(t.names(), (std::vector<std::string>{"e[0]", "e[1]"}));
  EXPECT_EQ(t.at("e[1]").values.data(), static_cast<std::int32_t*>(m.data()) + 1);
  EXPECT_EQ(t.at("e[1]").values.at<std::int32_t>({2}), 5);
  tb::tensor both = t.to_tensor({}, tb::dtype::int32);
  EXPECT_EQ(both.at<std::int32_t>({2, 0}), 4);
}

TEST(ArrowTable, ToTensorOverManyBlocksAndColumnGroups) {
  // 20 columns (a group of 16 and one of 4) over 20000 rows (several row blocks), a mask on one.
  const std::int64_t rows = 20000, cols = 20;
  tb::table t;
  for (std::int64_t j = 0; j < cols; ++j) {
    tb::tensor v = tb::tensor::empty({rows}, j % 2 ? tb::dtype::int32 : tb::dtype::float64);
    for (std::int64_t r = 0; r < rows; ++r) {
      if (j % 2) static_cast<std::int32_t*>(v.data())[r] = static_cast<std::int32_t>(r * cols + j);
      else static_cast<double*>(v.data())[r] = static_cast<double>(r * cols + j);
    }
    std::optional<tb::tensor> valid;
    if (j == 3) {
      valid = tb::tensor::empty({rows}, tb::dtype::bool_);
      for (std::int64_t r = 0; r < rows; ++r) static_cast<bool*>(valid->data())[r] = r % 7 != 0;
    }
    t.add_column(tb::column{"c" + std::to_string(j), tb::column_kind::tensor, v, {}, valid, ""});
  }
  tb::to_tensor_options o;
  o.dtype = tb::dtype::float32;
  o.fill_value = -1;
  tb::tensor m = t.to_tensor({}, o);
  ASSERT_EQ(m.shape(), (tb::shape_t{rows, cols}));
  const auto* p = static_cast<const float*>(m.data());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < cols; ++j) {
      const float expected = (j == 3 && r % 7 == 0) ? -1.0f : static_cast<float>(r * cols + j);
      ASSERT_EQ(p[r * cols + j], expected) << r << "," << j;
    }
}

TEST(ArrowTable, ToTensorStreamsLargeOutputsOfStridedAndMixedColumns) {
  // 600,000 rows x 8 float32 (19 MB: above the non-temporal threshold, several threads' rows and
  // many tiles): a fixed-size list of 3 int16 (strided views), float64, uint8, bool, int64 and a
  // masked float16 column. The one-pass result equals the column-by-column (checked) one.
  const std::int64_t rows = 600000;
  tb::tensor e = tb::tensor::empty({rows, 3}, tb::dtype::int16);
  tb::tensor f = tb::tensor::empty({rows}, tb::dtype::float64);
  tb::tensor u = tb::tensor::empty({rows}, tb::dtype::uint8);
  tb::tensor b = tb::tensor::empty({rows}, tb::dtype::bool_);
  tb::tensor l = tb::tensor::empty({rows}, tb::dtype::int64);
  tb::tensor h = tb::cast(tb::tensor::zeros({rows}, tb::dtype::float32), tb::dtype::float16);
  tb::tensor valid = tb::tensor::empty({rows}, tb::dtype::bool_);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (int k = 0; k < 3; ++k) static_cast<std::int16_t*>(e.data())[r * 3 + k] = static_cast<std::int16_t>((r * 3 + k) % 30000);
    static_cast<double*>(f.data())[r] = 0.5 * static_cast<double>(r % 1000);
    static_cast<std::uint8_t*>(u.data())[r] = static_cast<std::uint8_t>(r);
    static_cast<bool*>(b.data())[r] = r % 3 == 0;
    static_cast<std::int64_t*>(l.data())[r] = r;
    static_cast<bool*>(valid.data())[r] = r % 11 != 0;
  }
  std::vector<tb::arrow_column> cols(6);
  const char* names[] = {"e", "f", "u", "b", "l", "h"};
  const tb::tensor values[] = {e, f, u, b, l, h};
  for (int i = 0; i < 6; ++i) {
    cols[static_cast<std::size_t>(i)].name = names[i];
    cols[static_cast<std::size_t>(i)].values = values[i];
  }
  cols[5].valid = valid;
  tb::arrow_schema s{};
  tb::arrow_array a{};
  tb::export_arrow_columns(cols, &s, &a);
  tb::table t = tb::table_from_arrow(&s, &a);
  ASSERT_EQ(t.names().size(), 8u);
  tb::to_tensor_options o;
  o.dtype = tb::dtype::float32;
  o.fill_value = -2;
  const tb::tensor fast = t.to_tensor({}, o);
  o.checked = true;
  const tb::tensor slow = t.to_tensor({}, o);
  ASSERT_EQ(fast.shape(), (tb::shape_t{rows, 8}));
  ASSERT_EQ(std::memcmp(fast.data(), slow.data(), fast.nbytes()), 0);
  const auto* p = static_cast<const float*>(fast.data());
  for (std::int64_t r : {std::int64_t{0}, std::int64_t{1}, std::int64_t{4097}, rows - 1}) {
    EXPECT_EQ(p[r * 8 + 1], static_cast<float>((r * 3 + 1) % 30000));
    EXPECT_EQ(p[r * 8 + 3], 0.5f * static_cast<float>(r % 1000));
    EXPECT_EQ(p[r * 8 + 5], r % 3 == 0 ? 1.0f : 0.0f);
    EXPECT_EQ(p[r * 8 + 6], static_cast<float>(r));
    EXPECT_EQ(p[r * 8 + 7], r % 11 == 0 ? -2.0f : 0.0f);
  }
}
