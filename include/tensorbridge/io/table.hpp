#pragma once
/// @file table.hpp
/// `tb::table`: ordered, named, equally long columns (what a CSV file or a DataFrame holds).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// How a column stores its values.
enum class column_kind {
  tensor,       ///< a 1-D tensor of numbers or bools (`values`)
  strings,      ///< UTF-8 strings (`strings`)
  categorical,  ///< int32 codes into a vocabulary (`values` holds the codes, `strings` the vocabulary)
};

/// One column of a table.
///
/// - `values` has shape (num_rows,); it may be a strided view (a column of a row-major matrix).
/// - Missing values: float columns hold NaN and have no mask; other columns with missing values
///   carry `valid` (bool, shape (num_rows,), false where missing; the value there is 0, false or "").
struct column {
  std::string name;                       ///< the column name (UTF-8)
  column_kind kind = column_kind::tensor;  ///< how the values are stored
  tensor values;                          ///< numbers/bools (kind tensor) or int32 codes (kind categorical)
  std::vector<std::string> strings;       ///< the strings (kind strings) or the vocabulary (kind categorical)
  std::optional<tensor> valid;            ///< bool validity mask, present only when some value is missing
  /// For int64 values that count time since the Unix epoch (pandas datetime64 columns) or a duration
  /// (timedelta64): "datetime64[<unit>]" or "timedelta64[<unit>]" with unit "s", "ms", "us" or "ns";
  /// empty for every other column.
  std::string time_type;
  /// The time zone of a `datetime64` column read from Arrow ("UTC", "Europe/Paris"), empty if none.
  std::string timezone;
};

/// Options of `table::to_tensor`.
struct to_tensor_options {
  /// The element type of the result. Empty (the default): the columns' common type, as NumPy's
  /// `result_type` and pandas' `DataFrame.to_numpy()` choose it (int64 + float32 -> float64, bool +
  /// int64 -> int64, int64 + uint64 -> float64; categorical columns count as int32 codes), and
  /// float64 instead of an integer or bool type when a chosen column has missing values and no
  /// integral `fill_value` is given (as pandas turns an integer column with missing values into float64).
  std::optional<tb::dtype> dtype;
  /// Which casts from a column's type to `dtype` are allowed (NumPy's meaning). Default same_kind,
  /// as the conversion API (`to_numpy(x, dtype=...)`): float -> int needs `casting::unsafe`.
  casting rule = casting::same_kind;
  /// Raise instead of losing data (overflow to infinity, out-of-range or NaN into integers); the
  /// error names the column and row. Default false.
  bool checked = false;
  /// The value written where a column has a missing value (a validity mask). Empty (the default): NaN
  /// when the result is a float type, and an error naming the column and row otherwise. Categorical
  /// columns keep code -1 for missing values.
  std::optional<double> fill_value;
};

/// Ordered named columns of equal length.
///
/// Example:
/// ```
/// tb::table t = tb::read_csv("iris.csv");
/// tb::tensor x = t.to_tensor({"sepal_length", "sepal_width"}, tb::dtype::float32);  // shape (150, 2)
/// ```
class table {
 public:
  /// An empty table (no columns, no rows).
  table() = default;

  /// The number of rows (the length of every column).
  std::int64_t num_rows() const noexcept { return num_rows_; }
  /// The number of columns.
  std::int64_t num_columns() const noexcept { return static_cast<std::int64_t>(columns_.size()); }
  /// The column names, in order.
  std::vector<std::string> names() const;
  /// The columns, in order.
  const std::vector<column>& columns() const noexcept { return columns_; }

  /// The column named `name`; throws `tb::error` (value) listing the names if there is none.
  const column& at(std::string_view name) const;
  /// The column at position `index` (negative counts from the end); throws `tb::error` (value) if out of range.
  const column& at(std::int64_t index) const;
  /// The position of the column named `name`, or -1.
  std::int64_t find(std::string_view name) const noexcept;

  /// Appends a column. Throws `tb::error` (value) if its length differs from the other columns', its
  /// name is taken, or its parts disagree with its kind (1-D `values`, int32 codes, bool mask).
  void add_column(column c);

  /// A table of the chosen columns (all when empty), in the order given, sharing their storage
  /// (pandas' `df[["a", "b"]]`). Throws `tb::error` (value) for an unknown or repeated name.
  table select(std::span<const std::string> columns) const;

  /// Marks `matrix` (shape (num_rows, num_columns)) as the storage every column views, in order, so that
  /// `to_tensor` of all columns in that dtype returns it without copying. Used by readers.
  void set_matrix(tensor matrix);

  /// The chosen columns (all when empty, in table order) as one C-contiguous 2-D tensor of shape
  /// (num_rows, k), in `options.dtype` or the columns' common type.
  ///
  /// - Numbers and bools are converted with `tb::cast_into` under `options.rule` and `options.checked`;
  ///   categorical columns contribute their codes.
  /// - Missing values (a column's validity mask) become NaN in a float result, `options.fill_value` if
  ///   given, and otherwise an error (value) naming the column and row.
  /// - String columns are an error (type) that names them; so is a cast the rule refuses.
  /// - A table read as one matrix returns that matrix itself when all columns are asked for in its dtype.
  tensor to_tensor(std::span<const std::string> columns = {}, const to_tensor_options& options = {}) const;
  /// `to_tensor(columns, {.dtype = dtype})`.
  tensor to_tensor(std::span<const std::string> columns, dtype dtype) const;
  /// The type `to_tensor` gives without an explicit dtype (see `to_tensor_options::dtype`) for these
  /// columns and fill value: a non-integral fill value of an integer or bool column also gives float64.
  dtype common_dtype(std::span<const std::string> columns = {}, std::optional<double> fill_value = {}) const;

 private:
  std::vector<std::size_t> chosen(std::span<const std::string> columns) const;

  std::vector<column> columns_;
  std::int64_t num_rows_ = 0;
  std::optional<tensor> matrix_;
};

/// A table split for training: the feature columns as one matrix, and the label column(s).
struct features_and_labels {
  tensor features;              ///< shape (num_rows, number of feature columns)
  std::optional<tensor> labels;  ///< shape (num_rows,) for one label column, (num_rows, k) for k; none without labels
};

/// Splits `t` into features (every column not in `labels`, as `to_tensor(features, options)`) and
/// labels, as `Dataset.from_csv` / `from_dataframe` serve them:
///
/// - One label column: numbers keep their dtype (the column itself when nothing is missing; missing
///   values take `options.fill_value`, else an error naming the row); a categorical column gives
///   its int32 codes; a strings column gives int64 codes of its sorted distinct values (as
///   scikit-learn's `LabelEncoder`), and a missing string there is an error (value).
/// - Several label columns: `to_tensor(labels, options)`.
/// - No label columns: only features.
///
/// Throws `tb::error` (value), prefixed by `where`, for a label that is not a column or when no
/// feature column is left; `to_tensor`'s errors otherwise.
features_and_labels split_features_labels(const table& t, std::span<const std::string> labels,
                                          const to_tensor_options& options = {},
                                          std::string_view where = "split_features_labels");

/// Turns a strings column into a categorical one: int32 codes into the sorted distinct values
/// (missing values get code -1, as in pandas).
column to_categorical(const column& strings);

}  // namespace tb
