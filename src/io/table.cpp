#include <algorithm>
#include <map>

#include "tensorbridge/cast.hpp"
#include "tensorbridge/table.hpp"

namespace tb {
namespace {

std::string joined_names(const std::vector<column>& columns) {
  std::string s;
  for (const column& c : columns) s += (s.empty() ? "\"" : ", \"") + c.name + "\"";
  return s.empty() ? "(none)" : s;
}

}  // namespace

std::vector<std::string> table::names() const {
  std::vector<std::string> out;
  out.reserve(columns_.size());
  for (const column& c : columns_) out.push_back(c.name);
  return out;
}

std::int64_t table::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].name == name) return static_cast<std::int64_t>(i);
  return -1;
}

const column& table::at(std::string_view name) const {
  const std::int64_t i = find(name);
  if (i < 0) fail(error_kind::value, "no column named \"", name, "\"; the columns are ", joined_names(columns_));
  return columns_[static_cast<std::size_t>(i)];
}

const column& table::at(std::int64_t index) const {
  const std::int64_t n = num_columns();
  const std::int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n) fail(error_kind::value, "column index ", index, " is out of range for a table of ", n, " columns");
  return columns_[static_cast<std::size_t>(i)];
}

void table::add_column(column c) {
  if (find(c.name) >= 0) fail(error_kind::value, "the table already has a column named \"", c.name, "\"");
  std::int64_t length;
  if (c.kind == column_kind::strings) {
    length = static_cast<std::int64_t>(c.strings.size());
  } else {
    if (c.values.ndim() != 1)
      fail(error_kind::value, "column \"", c.name, "\" must be 1-D, got ", c.values.describe());
    if (c.kind == column_kind::categorical && c.values.dtype() != dtype::int32)
      fail(error_kind::value, "the codes of categorical column \"", c.name, "\" must be int32, got ", name(c.values.dtype()));
    length = c.values.shape()[0];
  }
  if (c.valid && (c.valid->ndim() != 1 || c.valid->shape()[0] != length || c.valid->dtype() != dtype::bool_))
    fail(error_kind::value, "the validity mask of column \"", c.name, "\" must be bool of shape (", length, ",)");
  if (!columns_.empty() && length != num_rows_)
    fail(error_kind::value, "column \"", c.name, "\" has ", length, " rows but the table has ", num_rows_);
  num_rows_ = length;
  columns_.push_back(std::move(c));
  matrix_.reset();
}

void table::set_matrix(tensor matrix) {
  if (matrix.ndim() != 2 || matrix.shape()[0] != num_rows_ || matrix.shape()[1] != num_columns())
    fail(error_kind::value, "set_matrix: expected shape (", num_rows_, ", ", num_columns(), "), got ", matrix.describe());
  matrix_ = std::move(matrix);
}

tensor table::to_tensor(std::span<const std::string> columns, dtype dtype) const {
  std::vector<std::size_t> chosen;
  if (columns.empty()) {
    for (std::size_t i = 0; i < columns_.size(); ++i) chosen.push_back(i);
  } else {
    for (const std::string& n : columns) {
      at(n);  // fails with the list of names
      chosen.push_back(static_cast<std::size_t>(find(n)));
    }
  }
  bool identity = chosen.size() == columns_.size();
  for (std::size_t j = 0; identity && j < chosen.size(); ++j) identity = chosen[j] == j;
  if (identity && matrix_ && matrix_->dtype() == dtype) return *matrix_;

  std::vector<std::string> text_columns;
  for (std::size_t i : chosen)
    if (columns_[i].kind == column_kind::strings) text_columns.push_back("\"" + columns_[i].name + "\"");
  if (!text_columns.empty()) {
    std::string list;
    for (const auto& s : text_columns) list += (list.empty() ? "" : ", ") + s;
    fail(error_kind::type, "to_tensor: column", text_columns.size() > 1 ? "s " : " ", list,
         " hold", text_columns.size() > 1 ? "" : "s",
         " strings; pass columns=[...] with numeric columns only, or read them with dtype \"category\" for codes");
  }
  const auto k = static_cast<std::int64_t>(chosen.size());
  tensor out = tensor::empty({num_rows_, k}, dtype);
  for (std::int64_t j = 0; j < k; ++j) {
    const tensor dst(out.storage(), dtype, {num_rows_}, {k},
                     out.byte_offset() + j * static_cast<std::int64_t>(itemsize(dtype)));
    cast_into(columns_[chosen[static_cast<std::size_t>(j)]].values, dst);
  }
  return out;
}

column to_categorical(const column& strings) {
  if (strings.kind != column_kind::strings)
    fail(error_kind::value, "to_categorical: column \"", strings.name, "\" does not hold strings");
  const auto n = static_cast<std::int64_t>(strings.strings.size());
  const bool* valid = strings.valid ? static_cast<const bool*>(strings.valid->data()) : nullptr;
  std::map<std::string_view, std::int32_t> codes;
  for (std::int64_t i = 0; i < n; ++i)
    if (!valid || valid[i]) codes.emplace(strings.strings[static_cast<std::size_t>(i)], 0);
  column out;
  out.name = strings.name;
  out.kind = column_kind::categorical;
  out.valid = strings.valid;
  std::int32_t next = 0;
  for (auto& [text, code] : codes) {
    code = next++;
    out.strings.emplace_back(text);
  }
  out.values = tensor::empty({n}, dtype::int32);
  auto* dst = static_cast<std::int32_t*>(out.values.data());
  for (std::int64_t i = 0; i < n; ++i)
    dst[i] = (!valid || valid[i]) ? codes.at(strings.strings[static_cast<std::size_t>(i)]) : -1;
  return out;
}

}  // namespace tb
