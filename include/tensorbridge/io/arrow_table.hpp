#pragma once
/// @file arrow_table.hpp
/// `tb::table` to and from Arrow record batches and streams (the C Data Interface of
/// `tensorbridge/interop/arrow.hpp`).

#include "tensorbridge/interop/arrow.hpp"
#include "tensorbridge/io/table.hpp"

namespace tb {

/// The table of imported Arrow columns: numbers stay views of the producer's memory; strings,
/// dictionaries (categorical columns), masks and time types map one to one. A fixed-size list
/// column "e" of width k becomes k columns "e[0]" ... "e[k-1]", strided views of its values.
table table_from_arrow(std::vector<arrow_column> columns);

/// Reads a whole Arrow stream into a table (see `import_arrow_stream`), taking ownership of it.
table table_from_arrow_stream(arrow_array_stream* stream, const arrow_import_options& options = {});

/// Imports a struct array (a record batch) as a table, taking ownership of both structs.
table table_from_arrow(arrow_schema* schema, arrow_array* array, const arrow_import_options& options = {});

/// The columns of `t` as Arrow columns (sharing their memory), for `export_arrow_columns`.
std::vector<arrow_column> arrow_columns_of(const table& t);

/// Exports `t` as a struct array (a record batch); the caller releases both structs.
void table_to_arrow(const table& t, arrow_schema* out_schema, arrow_array* out_array);

/// Exports `t` as a stream of one record batch; the caller releases the stream.
void table_to_arrow_stream(const table& t, arrow_array_stream* out);

/// Maps the whole file at `path` read-only as a uint8 tensor (shared pages, with a descriptor so
/// that the pipeline reads rows with positioned reads instead of touching the mapping): the bytes
/// an Arrow IPC reader parses in place. O(1); throws `tb::error` (not_found, io...) naming the file.
tensor map_file(const std::string& path);

/// `t` as a view of `mapped`'s storage when its memory lies inside `mapped` (an Arrow column read
/// in place from a mapped file), so that it counts as a region of that file; `t` itself otherwise.
tensor rebase_onto(const tensor& t, const tensor& mapped);

/// Every column of `t` rebased onto `mapped` (see `rebase_onto`), masks included.
table rebase_onto(const table& t, const tensor& mapped);

}  // namespace tb
