#pragma once
/// @file arrow.hpp
/// The Arrow C Data Interface and C Stream Interface: the structs, ABI-identical to the Arrow
/// specification (written here from the spec, in tensorbridge's naming), a validator, and
/// conversion of Arrow arrays to and from tensors.
///
/// - Import takes ownership of the producer's structs: their `release` runs exactly once, when
///   the last tensor viewing their memory dies.
/// - Fixed-width columns without nulls become tensors without a copy.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/core/tensor.hpp"

namespace tb {

/// `ARROW_FLAG_DICTIONARY_ORDERED`: the dictionary's order is meaningful.
inline constexpr std::int64_t arrow_flag_dictionary_ordered = 1;
/// `ARROW_FLAG_NULLABLE`: the field may hold nulls.
inline constexpr std::int64_t arrow_flag_nullable = 2;
/// `ARROW_FLAG_MAP_KEYS_SORTED`: the keys of each map value are sorted.
inline constexpr std::int64_t arrow_flag_map_keys_sorted = 4;

/// `struct ArrowSchema`: the type of an array (one node of a type tree).
struct arrow_schema {
  const char* format;         ///< the type, as a format string ("g" float64, "+s" struct...); owned by the producer
  const char* name;           ///< the field name (UTF-8), may be null; owned by the producer
  const char* metadata;       ///< binary key/value metadata (int32 count, then int32-length-prefixed keys and values), may be null
  std::int64_t flags;         ///< `arrow_flag_*` bits
  std::int64_t n_children;    ///< the number of child types
  arrow_schema** children;    ///< `n_children` pointers to the children, owned by this schema
  arrow_schema* dictionary;   ///< the value type of a dictionary-encoded array (the indices are `format`), else null
  void (*release)(arrow_schema*);  ///< frees this schema and its children; null once released
  void* private_data;         ///< the producer's
};

/// `struct ArrowArray`: the data of an array (one node of a data tree, matching a schema node).
struct arrow_array {
  std::int64_t length;        ///< number of logical elements
  std::int64_t null_count;    ///< number of nulls, or -1 if unknown
  std::int64_t offset;        ///< logical offset of element 0 into the buffers (in elements, or in bits for bitmaps)
  std::int64_t n_buffers;     ///< number of entries of `buffers` (fixed by the type)
  std::int64_t n_children;    ///< number of children (fixed by the type)
  const void** buffers;       ///< the buffers; buffers[0] is the validity bitmap (null when there are no nulls)
  arrow_array** children;     ///< `n_children` pointers to the children, owned by this array
  arrow_array* dictionary;    ///< the dictionary values of a dictionary-encoded array, else null
  void (*release)(arrow_array*);  ///< frees this array, its children and its buffers; null once released
  void* private_data;         ///< the producer's
};

/// `struct ArrowArrayStream`: a pull-style stream of arrays (record batches) sharing one schema.
struct arrow_array_stream {
  /// Writes the schema into `out` (the caller releases it). Returns 0 or an errno value.
  int (*get_schema)(arrow_array_stream*, arrow_schema* out);
  /// Writes the next array into `out`; at the end `out->release` is null. Returns 0 or an errno value.
  int (*get_next)(arrow_array_stream*, arrow_array* out);
  /// The description of the last error (valid until the next call), or null.
  const char* (*get_last_error)(arrow_array_stream*);
  /// Frees the stream; null once released.
  void (*release)(arrow_array_stream*);
  void* private_data;  ///< the producer's
};

/// Checks that `array` is a well-formed array of type `schema`, recursively: format strings,
/// lengths, offsets, null counts, buffer and child counts, required buffers, dictionaries, and
/// the offsets of variable-length types (non-negative, non-decreasing).
///
/// - Throws `tb::error` (format) naming the column (`column`, then the child path), what is wrong
///   and what was expected; a released schema or array is an error too.
/// - Buffer sizes are not part of the C Data Interface, so a data buffer shorter than its
///   lengths and offsets say cannot be detected; everything else is checked before any read.
void validate_arrow(const arrow_schema& schema, const arrow_array& array, std::string_view column = "");

/// How an Arrow column is represented on import.
enum class arrow_column_kind {
  tensor,      ///< numbers, bools, timestamps: `values` (1-D; 2-D for a fixed-size list)
  strings,     ///< UTF-8 strings: `strings`
  dictionary,  ///< dictionary-encoded strings: int32 codes in `values`, the categories in `strings`
};

/// One imported Arrow column: the same parts as a `tb::column` of a table.
///
/// - Nulls: `valid` (bool, false where null) and a zeroed value there for strings, code -1 for
///   dictionaries; for numbers the value under a null is whatever the producer left there.
struct arrow_column {
  std::string name;                               ///< the field name
  arrow_column_kind kind = arrow_column_kind::tensor;  ///< how the values are stored
  tensor values;                                  ///< numbers (kind tensor) or int32 codes (kind dictionary)
  std::vector<std::string> strings;               ///< the strings (kind strings) or categories (kind dictionary)
  std::optional<tensor> valid;                    ///< bool validity mask, present only when some value is null
  /// "datetime64[<unit>]" for timestamps and dates (int64), "timedelta64[<unit>]" for durations,
  /// unit "s", "ms", "us" or "ns"; empty for every other column.
  std::string time_type;
  std::string timezone;                           ///< a timestamp's time zone, empty if none
  /// The number of rows (the length of `strings` or `values.shape()[0]`).
  std::int64_t length() const noexcept;
};

/// Options of the Arrow import functions.
struct arrow_import_options {
  /// Written where a number or bool is null, instead of returning a validity mask (the values are
  /// then a copy). Empty (the default): a mask.
  std::optional<double> fill_value;
  /// Mark views of the producer's buffers read-only (the default: Arrow memory is immutable by the
  /// format's contract). false lets consumers that may write (PyTorch) share them without a copy;
  /// only for memory the caller owns and accepts to see changed.
  bool read_only = true;
};

/// Imports one Arrow array of type `schema`, taking ownership of both structs: they are moved
/// out (their `release` set to null in the caller's structs) and released exactly once, when the
/// last tensor viewing their memory dies (at once if this throws).
///
/// - Fixed-width types without nulls (bool excepted) are views of the producer's buffers; so are
///   fixed-size lists of them (a 2-D tensor, one row per list) and int32 dictionary codes.
/// - Bit-packed bools and validity bitmaps are unpacked into new bool tensors.
/// - Unsupported types (structs, unions, lists, maps, decimals...) are `tb::error` (type) naming
///   the column and the type; malformed input is `tb::error` (format), see `validate_arrow`.
arrow_column import_arrow(arrow_schema* schema, arrow_array* array, const arrow_import_options& options = {});

/// Imports a struct array (a record batch) as its columns, taking ownership as `import_arrow`;
/// an array of any other type gives one column. Columns share one owner, released when the last
/// tensor of any column dies.
std::vector<arrow_column> import_arrow_columns(arrow_schema* schema, arrow_array* array,
                                               const arrow_import_options& options = {});

/// Reads a whole stream of record batches, taking ownership of `stream` (released before this
/// returns): one column per field, the batches joined. A single batch is kept without a copy;
/// several are gathered into one new buffer per column, in parallel. A `get_next` or
/// `get_schema` error becomes `tb::error` (io) with the producer's message.
/// `*record_batches` (if given) tells whether the stream's type is a struct (a stream of record
/// batches, one column per field) rather than a single column in chunks.
std::vector<arrow_column> import_arrow_stream(arrow_array_stream* stream, const arrow_import_options& options = {},
                                              bool* record_batches = nullptr);

/// True if `schema` is a struct type (a record batch) that is not dictionary-encoded.
bool is_record_batch(const arrow_schema& schema) noexcept;

/// Reads a whole stream of record batches as they are, one list of columns per batch (no batch
/// is joined to another: every fixed-width column stays a view of its batch), taking ownership
/// of `stream` as `import_arrow_stream` does.
std::vector<std::vector<arrow_column>> import_arrow_batches(arrow_array_stream* stream,
                                                            const arrow_import_options& options = {},
                                                            bool* record_batches = nullptr);

/// Joins the chunks of one column (same kind, dtype and row shape) into one column: the chunk
/// itself when there is one, else one gather into a new buffer, in parallel.
arrow_column concat_arrow_columns(std::span<const arrow_column> chunks);

/// Exports `t` as an Arrow array into `out_schema` and `out_array` (which the caller releases):
/// a 1-D tensor as a primitive array, a 2-D tensor as a fixed-size list of its rows.
///
/// - Contiguous memory is shared, kept alive until the array's release; other layouts and bools
///   (bit-packed in Arrow) are copied first.
/// - bfloat16 is exported as uint16 with the extension name "tensorbridge.bfloat16" in the field
///   metadata (and imported back as bfloat16); complex dtypes and tensors of 0 or more than 2
///   dimensions are `tb::error` (type).
void export_arrow(const tensor& t, arrow_schema* out_schema, arrow_array* out_array, std::string_view name = "");

/// Exports columns as one struct array (a record batch) into `out_schema` and `out_array`.
/// Numbers share memory as in `export_arrow`; masks become validity bitmaps, strings are copied into
/// UTF-8 offsets and data, dictionaries become int32-indexed dictionary arrays of strings.
void export_arrow_columns(std::span<const arrow_column> columns, arrow_schema* out_schema, arrow_array* out_array);

/// Exports columns as a stream holding one record batch (see `export_arrow_columns`).
void export_arrow_stream(std::vector<arrow_column> columns, arrow_array_stream* out);

}  // namespace tb
