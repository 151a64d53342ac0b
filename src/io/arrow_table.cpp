// A table's columns and Arrow's correspond one to one; this file only renames the parts.

#include "tensorbridge/io/arrow_table.hpp"

#include "io/file_internal.hpp"

namespace tb {

table table_from_arrow(std::vector<arrow_column> columns) {
  table out;
  for (arrow_column& c : columns) {
    column col;
    col.name = std::move(c.name);
    col.kind = c.kind == arrow_column_kind::strings      ? column_kind::strings
               : c.kind == arrow_column_kind::dictionary ? column_kind::categorical
                                                         : column_kind::tensor;
    if (col.kind == column_kind::tensor && c.values.ndim() == 2) {
      // A fixed-size list: one strided view per position, "name[0]", "name[1]"..., sharing memory.
      const tensor& m = c.values;
      for (std::int64_t j = 0; j < m.shape()[1]; ++j) {
        column part = col;
        part.name = col.name + "[" + std::to_string(j) + "]";
        part.values = tensor(m.storage(), m.dtype(), {m.shape()[0]}, {m.strides()[0]},
                             m.byte_offset() + j * m.strides()[1] * static_cast<std::int64_t>(m.itemsize()),
                             m.device(), m.read_only());
        part.valid = c.valid;
        out.add_column(std::move(part));
      }
      continue;
    }
    col.values = std::move(c.values);
    col.strings = std::move(c.strings);
    col.valid = std::move(c.valid);
    col.time_type = std::move(c.time_type);
    col.timezone = std::move(c.timezone);
    out.add_column(std::move(col));
  }
  return out;
}

table table_from_arrow_stream(arrow_array_stream* stream, const arrow_import_options& options) {
  return table_from_arrow(import_arrow_stream(stream, options));
}

table table_from_arrow(arrow_schema* schema, arrow_array* array, const arrow_import_options& options) {
  return table_from_arrow(import_arrow_columns(schema, array, options));
}

std::vector<arrow_column> arrow_columns_of(const table& t) {
  std::vector<arrow_column> out;
  for (const column& c : t.columns()) {
    arrow_column a;
    a.name = c.name;
    a.kind = c.kind == column_kind::strings       ? arrow_column_kind::strings
             : c.kind == column_kind::categorical ? arrow_column_kind::dictionary
                                                  : arrow_column_kind::tensor;
    a.values = c.values;
    a.strings = c.strings;
    a.valid = c.valid;
    a.time_type = c.time_type;
    a.timezone = c.timezone;
    out.push_back(std::move(a));
  }
  return out;
}

void table_to_arrow(const table& t, arrow_schema* out_schema, arrow_array* out_array) {
  const std::vector<arrow_column> columns = arrow_columns_of(t);
  export_arrow_columns(columns, out_schema, out_array);
}

void table_to_arrow_stream(const table& t, arrow_array_stream* out) { export_arrow_stream(arrow_columns_of(t), out); }

tensor map_file(const std::string& path) {
  detail::file_handle file = detail::file_handle::open_read(path);
  const std::uint64_t size = file.size();
  auto st = detail::map_region(file.fd(), 0, size, /*writable_private=*/false, path);
  return tensor(std::move(st), dtype::uint8, {static_cast<std::int64_t>(size)}, {1}, 0, cpu_device, true);
}

tensor rebase_onto(const tensor& t, const tensor& mapped) {
  const auto* lo = static_cast<const std::byte*>(mapped.data());
  const auto* hi = lo + mapped.nbytes();
  const auto* at = static_cast<const std::byte*>(t.data());
  if (t.numel() == 0 || t.has_negative_strides()) return t;
  std::int64_t last = 0;  // the element furthest from element 0
  for (std::int64_t i = 0; i < t.ndim(); ++i) last += (t.shape()[i] - 1) * t.strides()[i];
  const auto extent = static_cast<std::size_t>(last + 1) * t.itemsize();
  if (at < lo || at + extent > hi) return t;
  const std::int64_t offset = mapped.byte_offset() + (at - lo);
  return tensor(mapped.storage(), t.dtype(), t.shape(), t.strides(), offset, t.device(), true);
}

table rebase_onto(const table& t, const tensor& mapped) {
  table out;
  for (column c : t.columns()) {
    if (c.kind != column_kind::strings) c.values = rebase_onto(c.values, mapped);
    out.add_column(std::move(c));
  }
  return out;
}

}  // namespace tb
