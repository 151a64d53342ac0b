// Features and labels of a table (Dataset.from_csv / from_dataframe): which columns, and how a
// label column becomes one label per row.

#include <algorithm>

#include "tensorbridge/io/table.hpp"

namespace tb {
namespace {

// The column names as Python shows a list of them: ['a', 'b'].
std::string name_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += detail::cat(i ? ", " : "", "'", names[i], "'");
  return out + "]";
}

// One label column as one label per row.
tensor label_column(const table& t, const column& c, const to_tensor_options& options, std::string_view where) {
  switch (c.kind) {
    case column_kind::categorical:
      return c.values;  // int32 codes, -1 where missing
    case column_kind::strings: {
      if (c.valid)
        fail(error_kind::value, where, ": label column '", c.name, "' has missing values; drop or fill those rows");
      const column codes = to_categorical(c);
      tensor out = tensor::empty({t.num_rows()}, dtype::int64);
      const auto* src = static_cast<const std::int32_t*>(codes.values.data());
      std::copy(src, src + t.num_rows(), static_cast<std::int64_t*>(out.data()));
      return out;
    }
    case column_kind::tensor:
      break;
  }
  if (!c.valid) return c.values;
  // Missing values: the column in its own dtype, filled with fill_value or refused naming the row.
  const std::string name[] = {c.name};
  return t.to_tensor(name, {.dtype = c.values.dtype(), .fill_value = options.fill_value}).reshape({t.num_rows()});
}

}  // namespace

features_and_labels split_features_labels(const table& t, std::span<const std::string> labels,
                                          const to_tensor_options& options, std::string_view where) {
  const std::vector<std::string> names = t.names();
  for (const auto& label : labels)
    if (t.find(label) < 0)
      fail(error_kind::value, where, ": no label column '", label, "'; the columns are ", name_list(names));
  std::vector<std::string> features;
  for (const auto& n : names)
    if (std::find(labels.begin(), labels.end(), n) == labels.end()) features.push_back(n);
  if (features.empty())
    fail(error_kind::value, where, ": every column is a label; leave at least one feature column");
  features_and_labels out{.features = t.to_tensor(features, options), .labels = std::nullopt};
  if (labels.size() == 1) out.labels = label_column(t, t.at(labels[0]), options, where);
  else if (!labels.empty()) out.labels = t.to_tensor(labels, options);
  return out;
}

}  // namespace tb
