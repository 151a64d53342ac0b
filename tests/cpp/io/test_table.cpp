#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/table.hpp"

namespace {

tb::table three_columns() {
  tb::table t;
  tb::tensor a = tb::tensor::empty({2}, tb::dtype::int64);
  a.at<std::int64_t>({0}) = 1;
  a.at<std::int64_t>({1}) = 2;
  tb::tensor b = tb::tensor::empty({2}, tb::dtype::float64);
  b.at<double>({0}) = 4.5;
  b.at<double>({1}) = 5.5;
  t.add_column({.name = "a", .values = a});
  t.add_column({.name = "b", .values = b});
  t.add_column({.name = "s", .kind = tb::column_kind::strings, .strings = {"x", "y"}});
  return t;
}

TEST(TableSelect, ChosenColumnsInOrderSharingStorage) {
  const tb::table t = three_columns();
  const std::vector<std::string> names{"b", "a"};
  const tb::table s = t.select(names);
  EXPECT_EQ(s.names(), names);
  EXPECT_EQ(s.num_rows(), 2);
  EXPECT_EQ(s.at("a").values.data(), t.at("a").values.data());
  const tb::tensor m = s.to_tensor();  // int64 + float64: float64, as pandas' to_numpy
  EXPECT_EQ(m.dtype(), tb::dtype::float64);
  EXPECT_EQ(m.at<double>({1, 0}), 5.5);
  EXPECT_EQ(m.at<double>({1, 1}), 2.0);
}

TEST(TableSelect, OneColumnIsATable) {
  const std::vector<std::string> names{"s"};
  const tb::table s = three_columns().select(names);
  EXPECT_EQ(s.num_columns(), 1);
  EXPECT_EQ(s.at("s").strings, (std::vector<std::string>{"x", "y"}));
}

TEST(TableSelect, UnknownOrRepeatedNamesAreRefused) {
  const tb::table t = three_columns();
  const std::vector<std::string> unknown{"a", "zz"};
  EXPECT_THROW(t.select(unknown), tb::error);
  const std::vector<std::string> twice{"a", "a"};
  EXPECT_THROW(t.select(twice), tb::error);
}

}  // namespace

// The transposing cast moves 4-byte outputs eight columns at a time (8 x 8 blocks in registers)
// and the rest one by one: every column count around the panel width, row counts that leave
// blocks and tiles partly filled, and a strided column, equal the column-by-column (checked) path.
TEST(TableToTensor, EightColumnPanelsEqualTheColumnByColumnCast) {
  for (const std::int64_t k : {1, 7, 8, 9, 15, 16, 17, 23, 50})
    for (const std::int64_t rows : {1, 7, 8, 13, 1029, 40003}) {
      tb::table t;
      for (std::int64_t j = 0; j < k; ++j) {
        const bool strided = j == 5;
        tb::tensor v = tb::tensor::empty({rows, strided ? 2 : 1}, tb::dtype::float64);
        auto* p = static_cast<double*>(v.data());
        for (std::int64_t i = 0; i < v.numel(); ++i) p[i] = static_cast<double>(i * 131 + j) / 7.0;
        v = strided ? tb::tensor(v.storage(), tb::dtype::float64, {rows}, {2}, 8) : v.reshape({rows});
        t.add_column({.name = "c" + std::to_string(j), .values = v});
      }
      tb::to_tensor_options o;
      o.dtype = tb::dtype::float32;
      const tb::tensor fast = t.to_tensor({}, o);
      o.checked = true;
      o.rule = tb::casting::unsafe;
      const tb::tensor slow = t.to_tensor({}, o);
      ASSERT_EQ(fast.shape(), (tb::shape_t{rows, k}));
      ASSERT_EQ(std::memcmp(fast.data(), slow.data(), fast.nbytes()), 0) << k << " columns, " << rows << " rows";
      const auto* f = static_cast<const float*>(fast.data());
      EXPECT_EQ(f[(rows - 1) * k], static_cast<float>(static_cast<double>((rows - 1) * 131) / 7.0));
    }
}
