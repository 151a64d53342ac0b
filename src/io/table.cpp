#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "cast/interleave_internal.hpp"
#include "core/parallel_internal.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/io/table.hpp"

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

table table::select(std::span<const std::string> columns) const {
  table out;
  for (std::size_t i : chosen(columns)) out.add_column(columns_[i]);  // shares the values' storage
  return out;
}

std::vector<std::size_t> table::chosen(std::span<const std::string> columns) const {
  std::vector<std::size_t> out;
  if (columns.empty()) {
    for (std::size_t i = 0; i < columns_.size(); ++i) out.push_back(i);
    return out;
  }
  for (const std::string& n : columns) {
    at(n);  // fails with the list of names
    out.push_back(static_cast<std::size_t>(find(n)));
  }
  return out;
}

namespace {

// The type a column contributes to a matrix: its values, or the int32 codes of a categorical.
dtype column_dtype(const column& c) { return c.kind == column_kind::categorical ? dtype::int32 : c.values.dtype(); }

// NumPy's result_type for two dtypes: the first type, smallest first, that both cast to safely
// (int8 + uint8 -> int16, int64 + uint64 -> float64, float16 + bfloat16 -> float32).
dtype promote(dtype a, dtype b) {
  constexpr dtype order[] = {dtype::bool_,   dtype::int8,     dtype::uint8,   dtype::int16,     dtype::uint16,
                             dtype::int32,   dtype::uint32,   dtype::int64,   dtype::uint64,    dtype::float16,
                             dtype::bfloat16, dtype::float32, dtype::float64, dtype::complex64, dtype::complex128};
  for (dtype t : order)
    if (can_cast(a, t, casting::safe) && can_cast(b, t, casting::safe)) return t;
  return dtype::complex128;
}

bool has_missing(const column& c) { return c.kind == column_kind::tensor && c.valid.has_value(); }

// The first row where the mask says missing, or -1.
std::int64_t first_missing(const column& c) {
  if (!has_missing(c)) return -1;
  const tensor mask = c.valid->is_contiguous() ? *c.valid : cast(*c.valid, dtype::bool_);
  const auto* valid = static_cast<const bool*>(mask.data());
  for (std::int64_t i = 0; i < mask.shape()[0]; ++i)
    if (!valid[i]) return i;
  return -1;
}

// The fill value as one element of `to` (its bytes); fails if `to` cannot hold it exactly.
tensor fill_element(double value, dtype to) {
  tensor v = tensor::empty({1}, dtype::float64);
  *static_cast<double*>(v.data()) = value;
  if (is_floating(to) || is_complex(to)) return cast(v, to);
  if (std::isfinite(value) && std::trunc(value) == value && (to != dtype::bool_ || value == 0 || value == 1)) {
    try {
      return cast(v, to, {casting::unsafe, true});  // checked: refuses values outside the integer range
    } catch (const error&) {
    }
  }
  fail(error_kind::value, "to_tensor: fill_value ", value, " cannot be stored in ", name(to),
       "; pass a fill_value that ", name(to), " holds exactly, or another dtype");
}

// The row in a checked-cast message about a 1-D column ("element at index (r,)"), or -1.
std::int64_t row_of(std::string_view message) {
  const std::string_view key = "element at index (";
  const auto at = message.find(key);
  if (at == std::string_view::npos) return -1;
  std::int64_t row = 0;
  const char* p = message.data() + at + key.size();
  const char* end = message.data() + message.size();
  if (p == end || *p < '0' || *p > '9') return -1;
  for (; p < end && *p >= '0' && *p <= '9'; ++p) row = row * 10 + (*p - '0');
  return row;
}

}  // namespace

dtype table::common_dtype(std::span<const std::string> columns, std::optional<double> fill_value) const {
  const std::vector<std::size_t> picked = chosen(columns);
  std::optional<dtype> common;
  bool missing = false;
  for (std::size_t i : picked) {
    const column& c = columns_[i];
    if (c.kind == column_kind::strings) continue;  // to_tensor names them
    common = common ? promote(*common, column_dtype(c)) : column_dtype(c);
    missing = missing || first_missing(c) >= 0;
  }
  if (!common) return dtype::float64;
  // Missing values need NaN unless an integral fill value stands in for them.
  const bool integral_fill = fill_value && std::isfinite(*fill_value) && std::trunc(*fill_value) == *fill_value;
  if (missing && !integral_fill && !is_floating(*common) && !is_complex(*common)) return dtype::float64;
  return *common;
}

tensor table::to_tensor(std::span<const std::string> columns, dtype dtype) const {
  to_tensor_options options;
  options.dtype = dtype;
  return to_tensor(columns, options);
}

tensor table::to_tensor(std::span<const std::string> columns, const to_tensor_options& options) const {
  const std::vector<std::size_t> picked = chosen(columns);
  std::vector<std::string> text_columns;
  for (std::size_t i : picked)
    if (columns_[i].kind == column_kind::strings) text_columns.push_back("\"" + columns_[i].name + "\"");
  if (!text_columns.empty()) {
    std::string list;
    for (const auto& s : text_columns) list += (list.empty() ? "" : ", ") + s;
    fail(error_kind::type, "to_tensor: column", text_columns.size() > 1 ? "s " : " ", list,
         " hold", text_columns.size() > 1 ? "" : "s",
         " strings; pass columns=[...] with numeric columns only, or read them with dtype \"category\" for codes");
  }
  const dtype to = options.dtype ? *options.dtype : common_dtype(columns, options.fill_value);
  bool identity = picked.size() == columns_.size();
  for (std::size_t j = 0; identity && j < picked.size(); ++j) identity = picked[j] == j;
  if (identity && matrix_ && matrix_->dtype() == to) return *matrix_;  // float matrices have no masks

  // Missing values: NaN or the fill value, decided (and refused) before anything is converted.
  std::optional<tensor> fill;
  for (std::size_t i : picked) {
    const std::int64_t row = first_missing(columns_[i]);
    if (row < 0) continue;
    if (options.fill_value) {
      fill = fill_element(*options.fill_value, to);
    } else if (is_floating(to) || is_complex(to)) {
      fill = fill_element(std::numeric_limits<double>::quiet_NaN(), to);
    } else {
      fail(error_kind::value, "to_tensor: column \"", columns_[i].name, "\" has a missing value at row ", row,
           " and ", name(to), " has no NaN; pass fill_value=... to write a value there, or a float dtype to get NaN");
    }
    break;
  }

  const cast_options cast_rule{options.rule, options.checked};
  const auto k = static_cast<std::int64_t>(picked.size());
  const auto size = static_cast<std::int64_t>(itemsize(to));
  tensor out = tensor::empty({num_rows_, k}, to);
  // Rows [r0, r1) of column j cast into `dst` (r1 - r0 elements, any strides); errors name the
  // column and the row.
  auto cast_rows = [&](std::int64_t j, std::int64_t r0, std::int64_t r1, const tensor& dst) {
    const column& c = columns_[picked[static_cast<std::size_t>(j)]];
    try {
      cast_into(r0 == 0 && r1 == num_rows_ ? c.values : c.values.slice(r0, r1), dst, cast_rule);
    } catch (const error& e) {
      const std::int64_t row = row_of(e.what());
      if (row >= 0) fail(e.kind(), "to_tensor: column \"", c.name, "\", row ", row + r0, ": ", e.what());
      fail(e.kind(), "to_tensor: column \"", c.name, "\": ", e.what());
    }
  };
  // The fill value where column j misses a value, rows [r0, r1).
  auto fill_rows = [&](std::int64_t j, std::int64_t r0, std::int64_t r1) {
    const column& c = columns_[picked[static_cast<std::size_t>(j)]];
    if (!fill || !has_missing(c)) return;
    const tensor mask = c.valid->is_contiguous() ? *c.valid : cast(*c.valid, dtype::bool_);
    const auto* valid = static_cast<const bool*>(mask.data());
    auto* base = static_cast<std::byte*>(out.data()) + j * size;
    for (std::int64_t r = r0; r < r1; ++r)
      if (!valid[r]) std::memcpy(base + r * k * size, fill->data(), static_cast<std::size_t>(size));
  };
  auto column_view = [&](std::int64_t j, std::int64_t r0, std::int64_t r1) {
    return tensor(out.storage(), to, {r1 - r0}, {k}, out.byte_offset() + (r0 * k + j) * size);
  };
  if (options.checked || k == 1) {
    // Column by column, so that a checked cast's error names the first failing column, as documented.
    for (std::int64_t j = 0; j < k; ++j) {
      cast_rows(j, 0, num_rows_, column_view(j, 0, num_rows_));
      fill_rows(j, 0, num_rows_);
    }
    return out;
  }
  // One pass over the output, the rows split among the threads: the transposing cast reads every
  // column once and writes whole rows (see detail::interleave_cast). The casting rule is checked
  // first, column by column, with cast_into's message naming the column.
  std::vector<detail::interleave_source> sources;
  for (std::int64_t j = 0; j < k; ++j) {
    cast_rows(j, 0, 0, column_view(j, 0, 0));
    const tensor& v = columns_[picked[static_cast<std::size_t>(j)]].values;
    sources.push_back({static_cast<const std::byte*>(v.data()), v.strides()[0] * static_cast<std::int64_t>(v.itemsize()),
                       v.dtype()});
  }
  const bool stream = out.nbytes() >= detail::stream_threshold;
  auto* rows = static_cast<std::byte*>(out.data());
  detail::parallel_for(num_rows_, 4096, [&](std::int64_t r0, std::int64_t r1) {
    detail::interleave_cast(sources, to, r0, r1, rows, stream);
    for (std::int64_t j = 0; j < k; ++j) fill_rows(j, r0, r1);
  });
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
