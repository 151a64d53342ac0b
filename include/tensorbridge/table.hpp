#pragma once
/// @file table.hpp
/// `tb::table`: ordered, named, equally long columns (what a CSV file or a DataFrame holds).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/tensor.hpp"

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

  /// Marks `matrix` (shape (num_rows, num_columns)) as the storage every column views, in order, so that
  /// `to_tensor` of all columns in that dtype returns it without copying. Used by readers.
  void set_matrix(tensor matrix);

  /// The chosen columns (all when empty, in table order) as one C-contiguous 2-D tensor of shape
  /// (num_rows, k) and dtype `dtype`.
  ///
  /// - Numbers and bools are converted with `tb::cast` (unsafe casting, like `ndarray.astype`);
  ///   categorical columns contribute their codes.
  /// - String columns are an error (type) that names them.
  /// - A table read as one matrix returns that matrix itself when all columns are asked for in its dtype.
  tensor to_tensor(std::span<const std::string> columns = {}, dtype dtype = dtype::float32) const;

 private:
  std::vector<column> columns_;
  std::int64_t num_rows_ = 0;
  std::optional<tensor> matrix_;
};

/// Turns a strings column into a categorical one: int32 codes into the sorted distinct values
/// (missing values get code -1, as in pandas).
column to_categorical(const column& strings);

}  // namespace tb
