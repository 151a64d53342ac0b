#include <gtest/gtest.h>

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
