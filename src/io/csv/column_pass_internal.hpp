#pragma once
// The column path (a table of inferred, given or mixed column types) in one pass over the text: each
// block infers what its columns hold and, on the way, keeps the values it converted to do so, in the
// form its rows so far allow (int64, uint64, double, bool or strings). Once every block is done the
// column types are known; each block then copies (or widens: int64 -> double is the same rounding as
// reading the text as a double) its values into the table. Only a column whose values a block could
// not keep (its type changed in a way the kept values cannot follow: int then text, bool then numbers,
// ...; a given type; missing-value strings that are numbers) makes that block tokenize its text
// again, converting those columns alone.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/csv/converter_internal.hpp"

namespace tb::detail {

/// One block's 8-byte values of one column (int64, uint64, double bits or bool 0/1, by the column's
/// form), one per row: written straight into the block's rows of the table's column while they fit
/// the region placed there (the rows counted beforehand), and into `overflow` past it. Without a
/// region every value goes to `overflow` (a growing vector).
class csv_slots {
 public:
  /// Places the values from now on at `region` (room for `capacity` of them).
  void place(std::uint64_t* region, std::size_t capacity) noexcept {
    region_ = region;
    capacity_ = capacity;
  }
  void push_back(std::uint64_t v) {
    if (size_ < capacity_) region_[size_] = v;
    else overflow_.push_back(v);
    ++size_;
  }
  void pop_back() noexcept {
    --size_;
    if (size_ >= capacity_) overflow_.pop_back();
  }
  std::size_t size() const noexcept { return size_; }
  std::uint64_t& operator[](std::size_t i) noexcept { return i < capacity_ ? region_[i] : overflow_[i - capacity_]; }
  /// Calls `f(value&)` on every value in row order.
  template <class F>
  void for_each(F f) {
    const std::size_t in_region = std::min(size_, capacity_);
    for (std::size_t i = 0; i < in_region; ++i) f(region_[i]);
    for (std::uint64_t& v : overflow_) f(v);
  }
  /// Copies the values to `dst` (nothing to do where they already are).
  void copy_to(std::uint64_t* dst) const noexcept;
  void reserve(std::size_t n) {
    if (capacity_ == 0) overflow_.reserve(n);
  }
  /// No values; the region stays placed.
  void clear() noexcept {
    size_ = 0;
    overflow_.clear();
  }
  /// No values and no region; the overflow's memory is freed.
  void release() noexcept {
    *this = csv_slots{};
  }

 private:
  std::uint64_t* region_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::vector<std::uint64_t> overflow_;
};

/// What one block kept of one column while inferring its type.
struct csv_block_column {
  /// The form of the kept values: none yet (only missing values so far), one of the value types, or
  /// `lost` (the block converts this column again in a second pass).
  enum class form : std::uint8_t { none, int64, uint64, float64, boolean, text, lost };
  std::uint8_t flags = 0;                 // what inference saw (csv_saw_*), as csv_inferred_type takes it
  form held = form::none;
  bool negative_zero = false;             // an int64 form holds a "-0" (as a double it must be -0.0)
  csv_slots slots;                        // one per row, by `held`: int64, uint64, double bits, bool 0/1
  std::vector<std::string> text;          // form text: one per row ("" where missing)
  std::vector<std::int64_t> missing;      // block rows holding a missing-value string (not NaN in slots)

  /// Back to nothing seen; `keep` false makes the column `lost` from the start (given types).
  void reset(bool keep);
};

/// The one pass: infers each column's type (exactly as `csv_inferred_type` wants its flags) and keeps
/// the values (see `csv_block_column`).
struct csv_column_sink {
  csv_context ctx;
  std::vector<csv_block_column> columns;  // per output column
  std::int64_t rows = 0;
  std::size_t block_bytes = 0;  // the size of the block's text, to reserve room for its rows
  const char* first_row_begin = nullptr;
  std::string scratch;
  std::string number_scratch;
  static constexpr std::int64_t sample_rows = 64;  // rows measured before reserving for the block

  /// Rows in a row that `fast_row` refused; at `fast_give_up` the block stops trying it.
  int fast_misses = 0;
  static constexpr int fast_give_up = 8;
  bool fast = false;  // rows may take `fast_row` (see `csv_matrix_fast_ok`; set by `reset`)

  explicit csv_column_sink(const csv_context& c) : ctx(c), columns(c.layout->names.size()) { reset(); }
  void reset();
  void field(std::int64_t index, csv_field f);
  /// Reads the row at `p` (a row start) straight from the text when every column is settled in a
  /// form read in place (int64 while no float was seen, float64, text) and the row holds nothing
  /// else (no quotes, escapes, missing values, "-0", NaN, blanks or bytes a number does not end
  /// with): each field is parsed where it starts and must end at a delimiter or the line break, as
  /// `field` would have read it after the tokenizer. Returns the next row's start, or nullptr with
  /// nothing kept (the tokenizer then reads the row).
  const char* fast_row(const char* p, const char* eof);
  bool end_row(const char* row_begin, std::int64_t fields) {
    if (fields != ctx.layout->file_columns) csv_fail_ragged(ctx, row_begin, fields);
    if (rows <= sample_rows) reserve_rows(row_begin);
    ++rows;
    return true;
  }

 private:
  // Reserves room for the block's rows in every kept column once `sample_rows` rows are read (from
  // their length); remembers where the first row began before that.
  void reserve_rows(const char* row_begin);
};

/// Reads the rows that start in [begin, stop) into `sink`, each by `fast_row` where it takes it, else
/// by the tokenizer; same contract as `csv_tokenize` (nullptr when a speculative row runs past `limit`).
const char* csv_parse_column_rows(const csv_context& ctx, const char* begin, const char* stop, const char* limit,
                                  csv_column_sink& sink);

/// Reads the rows in [begin, end) into a table of typed columns (inferred where no type is given).
/// `saw`, when given, receives what inference saw per column (`csv_saw_*` flags).
table csv_read_columns(const csv_context& ctx, const csv_options& options, const char* begin, const char* end,
                       std::vector<std::uint8_t>* saw = nullptr);

}  // namespace tb::detail
