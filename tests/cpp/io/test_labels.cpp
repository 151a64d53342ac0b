// Features and labels of a table (what Dataset.from_csv / from_dataframe serve).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/table.hpp"

namespace {

using tb::testing_files::error_of;

template <class T>
tb::tensor vec(std::vector<T> v, tb::dtype d) {
  tb::tensor t = tb::tensor::empty({static_cast<std::int64_t>(v.size())}, d);
  for (std::size_t i = 0; i < v.size(); ++i) t.at<T>({static_cast<std::int64_t>(i)}) = v[i];
  return t;
}

tb::tensor mask(std::vector<bool> v) {
  tb::tensor t = tb::tensor::empty({static_cast<std::int64_t>(v.size())}, tb::dtype::bool_);
  for (std::size_t i = 0; i < v.size(); ++i) static_cast<bool*>(t.data())[i] = v[i];
  return t;
}

// x (float64), n (int32), species (strings), cat (categorical codes).
tb::table iris_like() {
  tb::table t;
  t.add_column({.name = "x", .values = vec<double>({1.5, 2.5, 3.5, 4.5}, tb::dtype::float64)});
  t.add_column({.name = "n", .values = vec<std::int32_t>({7, 8, 9, 10}, tb::dtype::int32)});
  t.add_column({.name = "species", .kind = tb::column_kind::strings,
                .strings = {"virginica", "setosa", "versicolor", "setosa"}});
  t.add_column({.name = "cat", .kind = tb::column_kind::categorical,
                .values = vec<std::int32_t>({1, -1, 0, 1}, tb::dtype::int32), .strings = {"a", "b"},
                .valid = mask({true, false, true, true})});
  return t;
}

template <class T>
std::vector<T> values(const tb::tensor& t) {
  std::vector<T> out;
  const tb::tensor c = t.contiguous();
  for (std::int64_t i = 0; i < c.numel(); ++i) out.push_back(static_cast<const T*>(c.data())[i]);
  return out;
}

const std::vector<std::string> none;

TEST(SplitFeaturesLabels, TextLabelsBecomeCodesOfTheSortedDistinctValues) {
  const tb::table t = iris_like().select(std::vector<std::string>{"x", "n", "species"});
  const std::vector<std::string> label = {"species"};
  const auto split = tb::split_features_labels(t, label, {.dtype = tb::dtype::float32});
  EXPECT_EQ(split.features.shape(), (tb::shape_t{4, 2}));
  EXPECT_EQ(split.features.dtype(), tb::dtype::float32);
  EXPECT_EQ(values<float>(split.features), (std::vector<float>{1.5f, 7, 2.5f, 8, 3.5f, 9, 4.5f, 10}));
  ASSERT_TRUE(split.labels);
  EXPECT_EQ(split.labels->dtype(), tb::dtype::int64);  // as scikit-learn's LabelEncoder
  EXPECT_EQ(values<std::int64_t>(*split.labels), (std::vector<std::int64_t>{2, 0, 1, 0}));
}

TEST(SplitFeaturesLabels, UTF8TextSortsByCodePoint) {
  tb::table t;
  t.add_column({.name = "x", .values = vec<double>({0, 1, 2}, tb::dtype::float64)});
  t.add_column({.name = "y", .kind = tb::column_kind::strings, .strings = {"\xc3\xa9t\xc3\xa9", "zoo", "Ab"}});
  const std::vector<std::string> label = {"y"};
  EXPECT_EQ(values<std::int64_t>(*tb::split_features_labels(t, label).labels), (std::vector<std::int64_t>{2, 1, 0}));
}

TEST(SplitFeaturesLabels, NumericAndCategoricalLabelsKeepTheirValues) {
  const tb::table t = iris_like();
  const std::vector<std::string> n = {"n"};
  const auto numeric = tb::split_features_labels(t.select(std::vector<std::string>{"x", "n"}), n);
  EXPECT_EQ(numeric.labels->dtype(), tb::dtype::int32);
  EXPECT_EQ(numeric.labels->data(), t.at("n").values.data());  // the column itself, no copy
  const std::vector<std::string> cat = {"cat"};
  const auto codes = tb::split_features_labels(t.select(std::vector<std::string>{"x", "cat"}), cat);
  EXPECT_EQ(values<std::int32_t>(*codes.labels), (std::vector<std::int32_t>{1, -1, 0, 1}));
}

TEST(SplitFeaturesLabels, MissingLabelsAreFilledOrRefused) {
  tb::table t;
  t.add_column({.name = "x", .values = vec<double>({0, 1, 2}, tb::dtype::float64)});
  t.add_column({.name = "n", .values = vec<std::int64_t>({5, 0, 7}, tb::dtype::int64), .valid = mask({true, false, true})});
  t.add_column({.name = "s", .kind = tb::column_kind::strings, .strings = {"a", "", "b"},
                .valid = mask({true, false, true})});
  const std::vector<std::string> n = {"n"}, s = {"s"};
  const auto filled = tb::split_features_labels(t.select(std::vector<std::string>{"x", "n"}), n,
                                                {.fill_value = -1.0});
  EXPECT_EQ(filled.labels->dtype(), tb::dtype::int64);
  EXPECT_EQ(filled.labels->shape(), (tb::shape_t{3}));
  EXPECT_EQ(values<std::int64_t>(*filled.labels), (std::vector<std::int64_t>{5, -1, 7}));
  EXPECT_NE(error_of([&] { tb::split_features_labels(t.select(std::vector<std::string>{"x", "n"}), n); }),
            "no error");
  tb::error_kind kind{};
  const std::string m = error_of([&] { tb::split_features_labels(t, s, {}, "from_csv"); }, &kind);
  EXPECT_EQ(m, "from_csv: label column 's' has missing values; drop or fill those rows");
  EXPECT_EQ(kind, tb::error_kind::value);
}

TEST(SplitFeaturesLabels, SeveralLabelsAreOneMatrixAndNoLabelsOnlyFeatures) {
  const tb::table t = iris_like().select(std::vector<std::string>{"x", "n"});
  const std::vector<std::string> both = {"x", "n"};
  tb::table three = iris_like().select(std::vector<std::string>{"x", "n", "cat"});
  const auto split = tb::split_features_labels(three, both, {.dtype = tb::dtype::float64});
  EXPECT_EQ(split.labels->shape(), (tb::shape_t{4, 2}));
  EXPECT_EQ(split.features.shape(), (tb::shape_t{4, 1}));
  const auto alone = tb::split_features_labels(t, none);
  EXPECT_FALSE(alone.labels);
  EXPECT_EQ(alone.features.shape(), (tb::shape_t{4, 2}));
}

TEST(SplitFeaturesLabels, UnknownLabelsAndNoFeaturesAreRefused) {
  const tb::table t = iris_like().select(std::vector<std::string>{"x", "n"});
  const std::vector<std::string> nope = {"nope"}, all = {"x", "n"};
  EXPECT_EQ(error_of([&] { tb::split_features_labels(t, nope, {}, "from_csv"); }),
            "from_csv: no label column 'nope'; the columns are ['x', 'n']");
  EXPECT_EQ(error_of([&] { tb::split_features_labels(t, all, {}, "from_dataframe"); }),
            "from_dataframe: every column is a label; leave at least one feature column");
}

}  // namespace
