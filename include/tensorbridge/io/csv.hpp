#pragma once
/// @file csv.hpp
/// Reading CSV files into typed columns (`tb::table`) or straight into one 2-D tensor, on several
/// threads. Option names follow `pandas.read_csv` wherever the meaning is the same.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensorbridge/io/source.hpp"
#include "tensorbridge/io/table.hpp"

namespace tb {

/// What one CSV column becomes.
struct csv_column_type {
  column_kind kind = column_kind::tensor;  ///< tensor (numbers, bools), strings, or categorical
  tb::dtype dtype = tb::dtype::float64;    ///< the element type when `kind` is tensor

  /// Parses a type name: a numeric dtype name ("float32", "int64", "bool", ... as `dtype_from_name`),
  /// "str"/"string"/"object" for strings, "category" for categorical codes. float16, bfloat16 and
  /// complex types are an error (type).
  static csv_column_type from_name(std::string_view name);
};

/// Options of `read_csv`, `read_csv_string`, `read_csv_tensor` and `csv_batch_reader`.
struct csv_options {
  /// `header` value: the first row is the header unless `names` is given (pandas' "infer").
  static constexpr std::int64_t header_infer = -2;
  /// `header` value: there is no header row; columns are named "0", "1", ... unless `names` is given.
  static constexpr std::int64_t header_none = -1;

  /// The field delimiter (one byte), or '\0' to detect it from the first lines (pandas' `sep=None`):
  /// the one of ',', '\t', ';', '|' that appears equally often (outside quotes) on each of them.
  /// Default ','.
  char sep = ',';
  /// The quote character; '\0' turns quoting off. A quote is special only at the start of a field.
  /// Default '"'.
  char quotechar = '"';
  /// Inside quotes, two quote characters stand for one. Default true.
  bool doublequote = true;
  /// The escape character ('\0' = none): the byte after it is taken literally. Default none.
  char escapechar = '\0';
  /// Lines or rest of lines after this character are ignored ('\0' = none). Default none.
  char comment = '\0';
  /// The row (counted after `skiprows` lines, blank and comment lines skipped) holding the column
  /// names, or `header_none`, or `header_infer`. Default `header_infer`.
  std::int64_t header = header_infer;
  /// Column names to use instead of the header's (as many as there are fields). Default none.
  std::vector<std::string> names;
  /// Only these columns, by name (they keep file order, as in pandas). Default all.
  std::vector<std::string> usecols;
  /// Only these columns, by 0-based position (file order is kept). Default all.
  std::vector<std::int64_t> usecols_index;
  /// Physical lines skipped at the start of the file (after a byte order mark). Default 0.
  std::int64_t skiprows = 0;
  /// Extra strings read as missing values. Default none.
  std::vector<std::string> na_values;
  /// Also treat pandas' default NA strings ("", "NA", "NaN", "nan", "NULL", "null", "N/A", "n/a",
  /// "None", "<NA>", "#N/A", "-nan", ...) as missing. Default true.
  bool keep_default_na = true;
  /// Skip empty lines instead of reading them as rows of missing values. Default true.
  bool skip_blank_lines = true;
  /// One type for every column (e.g. float32); empty = infer each column (bool, int64, float64 or
  /// strings) unless `dtypes` names it. Default none.
  std::optional<csv_column_type> dtype;
  /// Types of single columns by name; they win over `dtype`. Default none.
  std::vector<std::pair<std::string, csv_column_type>> dtypes;
  /// The text encoding: only "utf-8" (also "utf8", "utf-8-sig", any case) is supported.
  std::string encoding = "utf-8";
  /// The thousands separator inside numbers ('\0' = none), as pandas: "1,234" reads as 1234 with
  /// thousands ','. Removed only after a digit and before the decimal mark or exponent; text fields
  /// keep it. It may equal `sep` (then only quoted fields can hold it). Default none.
  char thousands = '\0';
  /// The decimal mark of numbers, as pandas: with ',' "1,5" reads as 1.5 and "1.5" is text.
  /// Default '.'.
  char decimal = '.';
  /// Read at most this many data rows (after the header); 0 gives the columns and no rows. Default all.
  std::optional<std::int64_t> nrows;
  /// How the bytes are compressed: "infer" (told by the first bytes: gzip, bzip2, xz or zstd, as
  /// pandas' compression="infer" but by content, so pipes and any file name work), "none" (read
  /// as is), "gzip", "bz2", "xz" or "zstd" (the content must agree). Default "infer".
  std::string compression = "infer";
  /// How to reach a remote path (`s3://`, `https://`): see `storage_options`.
  storage_options storage;
  /// Bytes per parallel work unit (rows are split between threads in blocks of this size; smaller
  /// blocks are for tests of block boundaries). Default 1 MiB; minimum 1.
  std::size_t block_size = std::size_t{1} << 20;

  /// Throws `tb::error` (value) naming the bad option and what to do, e.g. a quote character equal
  /// to the delimiter, a line break as delimiter, a negative skiprows or nrows, a decimal mark equal
  /// to the thousands separator, or both usecols kinds at once.
  void validate() const;
};

/// The table read from a CSV file, as ordered named columns.
using csv_table = table;

/// Reads the CSV file at `path` into a table (parsed on `tb::num_threads()` threads).
///
/// - The file is read into memory first (parallel positioned reads of a regular file; FIFOs,
///   pipes and /proc files to their end; compressed files decompressed, see
///   `csv_options::compression`), so a file truncated meanwhile is a `tb::error` (io) naming the
///   byte offset, never a crash.
/// - Columns are typed from `options.dtype`/`options.dtypes` or inferred: bool (True/False/true/...),
///   int64, uint64 (non-negative integers, some beyond int64), float64 (also for integer columns with
///   missing values, as pandas), else strings (also integers that no one integer type holds exactly:
///   beyond uint64, negatives beside values beyond int64, or those with missing values).
/// - An explicit bool type reads True/False (pandas' spellings) and numbers equal to 1 or 0.
/// - When one float type is given for all columns (`options.dtype = float32`) the numbers are parsed
///   straight into one row-major matrix, which `to_tensor()` returns without a copy.
/// - Errors (format) give the path, line, field number and column name, and what to do:
///   `data.csv:1042:7: expected a number in column "age", found "n/a"; pass na_values=["n/a"] ...`.
///   Ragged rows, unterminated quotes, invalid UTF-8 in text, an empty file and a header without
///   data are all errors.
csv_table read_csv(const std::string& path, const csv_options& options = {});

/// `read_csv` on text in memory (compressed text is decompressed as `csv_options::compression`
/// says); messages name it "<string>".
csv_table read_csv_string(std::string_view text, const csv_options& options = {});

/// Reads a CSV file of numbers straight into one row-major 2-D tensor of `dtype` (float32 or float64),
/// without per-column intermediates. Missing values become NaN. Honors every other option.
tensor read_csv_tensor(const std::string& path, dtype dtype = dtype::float32, csv_options options = {});

/// `read_csv_tensor` on text in memory (see `read_csv_string`).
tensor read_csv_tensor_string(std::string_view text, dtype dtype = dtype::float32, csv_options options = {});

/// Reads a CSV file in batches of rows, for files larger than memory.
///
/// - Each batch is typed on its own (like pandas' `chunksize`) unless types are given.
/// - The file is read front to back in windows a little larger than a batch (positioned reads,
///   never a mapping), so only about one batch of text and its columns are in memory. FIFOs,
///   pipes and compressed files stream the same way. A regular file that shrinks below the size
///   it had when opened (a rotated log) is a `tb::error` (io) naming the byte offset.
///
/// Example:
/// ```
/// tb::csv_batch_reader reader("big.csv", 100000);
/// while (auto batch = reader.next()) consume(*batch);
/// ```
class csv_batch_reader {
 public:
  /// Opens `path` and reads its header; batches hold `rows_per_batch` rows (the last one fewer).
  csv_batch_reader(const std::string& path, std::int64_t rows_per_batch, const csv_options& options = {});
  ~csv_batch_reader();
  csv_batch_reader(csv_batch_reader&&) noexcept;
  csv_batch_reader& operator=(csv_batch_reader&&) noexcept;

  /// Reads batches of `text` (kept by the reader; compressed text is decompressed).
  static csv_batch_reader from_string(std::string text, std::int64_t rows_per_batch, const csv_options& options = {});

  /// The next batch, or nothing at the end of the file.
  std::optional<csv_table> next();
  /// The names of the columns every batch has.
  const std::vector<std::string>& names() const;

 private:
  struct state;
  explicit csv_batch_reader(std::unique_ptr<state> s);
  void start(std::int64_t rows_per_batch, const csv_options& options);
  std::unique_ptr<state> state_;
};

}  // namespace tb
