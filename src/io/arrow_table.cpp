// A table's columns and Arrow's correspond one to one; this file only renames the parts.

#include "tensorbridge/io/arrow_table.hpp"

namespace tb {

table table_from_arrow(std::vector<arrow_column> columns) {
  table out;
  for (arrow_column& c : columns) {
    column col;
    col.name = std::move(c.name);
    col.kind = c.kind == arrow_column_kind::strings      ? column_kind::strings
               : c.kind == arrow_column_kind::dictionary ? column_kind::categorical
                                                         : column_kind::tensor;
    if (col.kind == column_kind::tensor && c.values.ndim() != 1)
      fail(error_kind::type, "column \"", col.name, "\" holds fixed-size lists (", c.values.describe(),
           "); a table column is 1-D: import the column alone (tb.from_arrow of the array) for a 2-D tensor");
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

}  // namespace tb
