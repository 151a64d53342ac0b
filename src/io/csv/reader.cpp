// The CSV reader: reads the file's bytes (see file_internal.hpp: no mapping, so a file truncated
// meanwhile is an error, not SIGBUS; decompressed when compressed), reads the header into a layout, then runs the block parser in the
// fused matrix mode (one float type for everything) or the column path (column_pass_internal.hpp).

#include <algorithm>
#include <cstring>
#include <memory>

#include "core/parallel_internal.hpp"
#include "io/csv/chunker_internal.hpp"
#include "io/csv/column_pass_internal.hpp"
#include "io/csv/converter_internal.hpp"
#include "io/csv/reader_internal.hpp"
#include "io/csv/streamed_internal.hpp"
#include "io/decompress_internal.hpp"
#include "io/file_internal.hpp"
#include "io/source/stream_internal.hpp"
#include "tensorbridge/io/csv.hpp"

namespace tb {
namespace detail {
namespace {

// The bytes being read and what keeps them alive.
struct csv_text {
  std::shared_ptr<storage> keep;  // the bytes (files); empty for strings
  csv_source source;
};

csv_text csv_text_of(std::shared_ptr<storage> bytes, std::string where) {
  csv_text t;
  t.keep = std::move(bytes);
  t.source.where = std::move(where);
  static const char nothing = '\0';
  t.source.data = t.keep->nbytes() == 0 ? &nothing : reinterpret_cast<const char*>(t.keep->data());
  t.source.eof = t.source.data + t.keep->nbytes();
  return t;
}

csv_text read_csv_file(const std::string& path, const csv_options& options) {
  return csv_text_of(read_file_decompressed(path, options.compression, options.storage), path);
}

// Collects the fields of one row as strings.
struct csv_row_collector {
  const csv_dialect* dialect = nullptr;
  std::vector<std::string> fields;
  std::vector<const char*> starts;
  std::string scratch;
  bool got = false;
  void field(std::int64_t, csv_field f) {
    fields.emplace_back(field_text(*dialect, f, scratch));
    starts.push_back(f.begin);
  }
  bool end_row(const char*, std::int64_t) {
    got = true;
    return false;
  }
};

}  // namespace

[[noreturn]] void fail_no_data(const csv_source& src, bool had_header) {
  if (had_header)
    fail(error_kind::format, src.where, ": the file has a header but no data rows; add rows, or check skiprows/header");
  fail(error_kind::format, src.where,
       ": the file is empty (no header and no data rows); check the path, or skiprows/comment if they skip everything");
}

namespace {

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "\"" : ", \"") + n + "\"";
  return s;
}

}  // namespace

csv_layout make_layout(const csv_dialect& d, const csv_source& src, const csv_options& options, const char* begin) {
  const char* p = begin;
  for (std::int64_t i = 0; i < options.skiprows && p < src.eof; ++i) p = csv_next_line(d, p, src.eof);

  const std::int64_t header = options.header == csv_options::header_infer
                                  ? (options.names.empty() ? 0 : csv_options::header_none)
                                  : options.header;
  csv_layout layout;
  csv_row_collector first;
  first.dialect = &d;
  if (header >= 0) {
    csv_row_counter skip{0, header};
    if (header > 0) p = csv_tokenize(d, src, p, src.eof, nullptr, skip);
    if (skip.rows < header) fail_no_data(src, false);
    p = csv_tokenize(d, src, p, src.eof, nullptr, first);
    if (!first.got) fail_no_data(src, false);
    layout.ragged_hint_header = true;
    for (std::size_t i = 0; i < first.fields.size(); ++i)
      if (!is_valid_utf8(first.fields[i]))
        csv_fail(src, first.starts[i], static_cast<std::int64_t>(i) + 1,
                 "invalid UTF-8 in the header; tensorbridge reads UTF-8 only: convert the file first (e.g. iconv -f "
                 "latin1 -t utf-8)");
  } else {
    csv_tokenize(d, src, p, src.eof, nullptr, first);  // only to count the fields; p stays
    if (!first.got) fail_no_data(src, false);
  }
  layout.file_columns = static_cast<std::int64_t>(first.fields.size());
  layout.data_begin = p;

  std::vector<std::string> names;
  if (!options.names.empty()) {
    if (static_cast<std::int64_t>(options.names.size()) != layout.file_columns)
      fail(error_kind::value, src.where, ": names has ", options.names.size(), " entries but the file has ",
           layout.file_columns, " columns; give one name per column");
    names = options.names;
  } else if (header >= 0) {
    names = first.fields;
  } else {
    for (std::int64_t i = 0; i < layout.file_columns; ++i) names.push_back(std::to_string(i));
  }
  // pandas' rules: an empty name becomes "Unnamed: i", a repeated one gets ".1", ".2", ...
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) names[i] = "Unnamed: " + std::to_string(i);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string base = names[i];
    for (int k = 1; std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
                    names.begin() + static_cast<std::ptrdiff_t>(i);
         ++k)
      names[i] = base + "." + std::to_string(k);
  }

  std::vector<bool> keep(names.size(), options.usecols.empty() && options.usecols_index.empty());
  for (const std::string& n : options.usecols) {
    auto it = std::find(names.begin(), names.end(), n);
    if (it == names.end())
      fail(error_kind::value, src.where, ": usecols names \"", n, "\" but the columns are ", quoted_list(names));
    keep[static_cast<std::size_t>(it - names.begin())] = true;
  }
  for (std::int64_t i : options.usecols_index) {
    if (i >= layout.file_columns)
      fail(error_kind::value, src.where, ": usecols position ", i, " is out of range; the file has ",
           layout.file_columns, " columns");
    keep[static_cast<std::size_t>(i)] = true;
  }
  for (const auto& [n, type] : options.dtypes)
    if (std::find(names.begin(), names.end(), n) == names.end())
      fail(error_kind::value, src.where, ": dtype names column \"", n, "\" but the columns are ", quoted_list(names));

  layout.out_of_file.assign(names.size(), -1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!keep[i]) continue;
    layout.out_of_file[i] = static_cast<std::int64_t>(layout.names.size());
    layout.file_of_out.push_back(static_cast<std::int64_t>(i));
    layout.names.push_back(names[i]);
    std::optional<csv_column_type> type = options.dtype;
    for (const auto& [n, t] : options.dtypes)
      if (n == names[i]) type = t;
    layout.types.push_back(type);
  }
  return layout;
}

const char* skip_bom(const csv_source& src) {
  const char* p = src.data;
  if (src.eof - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  return p;
}

// The float type every read column has, if there is one (then the fused matrix path applies).
std::optional<dtype> matrix_dtype(const csv_layout& layout) {
  if (layout.types.empty()) return std::nullopt;
  std::optional<dtype> t;
  for (const auto& type : layout.types) {
    if (!type || type->kind != column_kind::tensor ||
        (type->dtype != dtype::float32 && type->dtype != dtype::float64))
      return std::nullopt;
    if (t && *t != type->dtype) return std::nullopt;
    t = type->dtype;
  }
  return t;
}

table table_of_matrix(const tensor& matrix, const std::vector<std::string>& names) {
  const std::int64_t rows = matrix.shape()[0], ncols = matrix.shape()[1];
  const auto item = static_cast<std::int64_t>(matrix.itemsize());
  table out;
  for (std::int64_t j = 0; j < ncols; ++j) {
    column c;
    c.name = names[static_cast<std::size_t>(j)];
    c.values = tensor(matrix.storage(), matrix.dtype(), {rows}, {ncols}, matrix.byte_offset() + j * item);
    out.add_column(std::move(c));
  }
  out.set_matrix(matrix);
  return out;
}

namespace {

// Every read column is a float of type T: one row-major matrix, each column a strided view of it.
// Blocks parse straight into their rows of the matrix, found by counting each block's line breaks
// first. Where a count was off (blank or comment lines, quoted line breaks, a block whose guessed
// start was wrong) the rows are gathered into a new matrix instead, so the count is only a guess.
template <class T>
table read_matrix(const csv_context& ctx, const csv_options& options, const char* begin, const char* end) {
  const csv_layout& layout = *ctx.layout;
  const auto ncols = static_cast<std::int64_t>(layout.names.size());
  const dtype out_dtype = std::is_same_v<T, float> ? dtype::float32 : dtype::float64;
  const std::vector<std::int64_t> counted = csv_count_block_rows(*ctx.dialect, begin, end, options.block_size);
  const std::size_t nblocks = counted.size();
  std::vector<std::int64_t> region_row(nblocks + 1, 0);
  for (std::size_t b = 0; b < nblocks; ++b) region_row[b + 1] = region_row[b] + counted[b];
  tensor matrix = tensor::empty({region_row[nblocks], ncols}, out_dtype);

  std::vector<csv_matrix_sink<T>> sinks;
  sinks.reserve(nblocks);
  const bool fast = csv_matrix_fast_ok(ctx);
  for (std::size_t b = 0; b < nblocks; ++b) {
    csv_matrix_sink<T>& sink = sinks.emplace_back(ctx);
    sink.fast = fast;
    sink.all_columns = ncols == layout.file_columns;
    sink.region = static_cast<T*>(matrix.data()) + region_row[b] * ncols;
    sink.region_rows = counted[b];
  }
  const auto blocks = csv_parse_blocks(*ctx.dialect, *ctx.source, begin, end, options.block_size,
                                       [&](std::size_t b, const char* from, const char* stop, const char* limit) {
                                         sinks[b].reset();
                                         return csv_parse_matrix_rows(ctx, from, stop, limit, sinks[b]);
                                       });
  // The matrix is right as filled if every block but the last filled exactly its region; the last
  // may stop short (trailing blank lines): then its first rows are the answer.
  bool filled = true;
  for (std::size_t b = 0; b < nblocks; ++b)
    filled = filled && (b + 1 == nblocks ? sinks[b].rows <= counted[b] : sinks[b].rows == counted[b]);
  std::int64_t rows = 0;
  for (const auto& sink : sinks) rows += sink.rows;
  if (filled) {
    matrix = tensor(matrix.storage(), out_dtype, {rows, ncols}, {ncols, 1}, matrix.byte_offset());
  } else {
    tensor exact = tensor::empty({rows, ncols}, out_dtype);
    std::vector<std::int64_t> first_row(nblocks + 1, 0);
    for (std::size_t b = 0; b < nblocks; ++b) first_row[b + 1] = first_row[b] + sinks[b].rows;
    csv_run_blocks(blocks, [&](std::size_t b, const csv_block&) {
      const csv_matrix_sink<T>& sink = sinks[b];
      T* dst = static_cast<T*>(exact.data()) + first_row[b] * ncols;
      const auto region_values = static_cast<std::size_t>(sink.region_used() * ncols);
      if (region_values != 0) std::memcpy(dst, sink.region, region_values * sizeof(T));
      // `overflow` may hold one begun row more than was parsed (a trailing blank or comment line).
      const auto overflow_values = static_cast<std::size_t>(sink.overflow_rows() * ncols);
      if (overflow_values != 0) std::memcpy(dst + region_values, sink.overflow.data(), overflow_values * sizeof(T));
    });
    matrix = std::move(exact);
  }
  return table_of_matrix(matrix, layout.names);
}

}  // namespace

table read_range(const csv_context& ctx, const csv_options& options, const char* begin, const char* end,
                 std::vector<std::uint8_t>* saw) {
  if (auto t = matrix_dtype(*ctx.layout)) {
    return *t == dtype::float32 ? read_matrix<float>(ctx, options, begin, end)
                                : read_matrix<double>(ctx, options, begin, end);
  }
  return csv_read_columns(ctx, options, begin, end, saw);
}

// `options` with the delimiter detected when it is '\0' (pandas' sep=None).
csv_options with_sep(const csv_source& src, const csv_options& options) {
  csv_options out = options;
  if (out.sep == '\0') out.sep = csv_sniff_sep(src, skip_bom(src), options);
  return out;
}

namespace {

// The end of the first `nrows` rows from `begin` (a row start), or `eof` when nrows is not set.
const char* rows_end(const csv_dialect& d, const csv_source& src, const char* begin, std::optional<std::int64_t> nrows) {
  if (!nrows) return src.eof;
  if (*nrows == 0) return begin;
  csv_row_counter counter{0, *nrows};
  return csv_tokenize(d, src, begin, src.eof, nullptr, counter);
}

table read_all(const csv_source& src, const csv_options& given) {
  given.validate();
  const csv_options options = with_sep(src, given);
  const csv_dialect d = csv_dialect::from(options);
  const csv_layout layout = make_layout(d, src, options, skip_bom(src));
  const csv_na_set na(options);
  const csv_context ctx{&d, &src, &layout, &na, csv_number_format::from(options)};
  table t = read_range(ctx, options, layout.data_begin, rows_end(d, src, layout.data_begin, options.nrows));
  if (t.num_rows() == 0 && options.nrows != 0) fail_no_data(src, true);
  return t;
}

}  // namespace
}  // namespace detail

csv_table read_csv(const std::string& path, const csv_options& options) {
  options.validate();
  // A remote object parses while it downloads (nrows reads a prefix: whole-file path below).
  if (is_remote_path(path) && !options.nrows) return detail::read_remote_csv(path, options);
  detail::csv_text text = detail::read_csv_file(path, options);
  return detail::read_all(text.source, options);
}

csv_table read_csv_string(std::string_view text, const csv_options& options) {
  const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
  if (detail::sniff_compression(bytes) != detail::compression::none ||
      (options.compression != "infer" && options.compression != "none" && !options.compression.empty())) {
    auto in = detail::decompressed(detail::memory_stream(bytes, "<string>"), options.compression);
    detail::csv_text plain = detail::csv_text_of(detail::read_to_end(*in), "<string>");
    return detail::read_all(plain.source, options);
  }
  detail::csv_source src;
  src.data = text.data();
  src.eof = text.data() + text.size();
  src.where = "<string>";
  return detail::read_all(src, options);
}

namespace {

// read_csv_tensor's options: every column of `dtype` (float32 or float64), so the fused matrix path runs.
csv_options tensor_options(dtype dtype, csv_options options) {
  if (dtype != dtype::float32 && dtype != dtype::float64)
    fail(error_kind::type, "read_csv_tensor reads float32 or float64, not ", name(dtype),
         "; read float32 and cast afterwards");
  if (!options.dtypes.empty())
    fail(error_kind::value, "read_csv_tensor reads every column as ", name(dtype),
         "; per-column dtypes need read_csv(...).to_tensor()");
  options.dtype = csv_column_type{column_kind::tensor, dtype};
  return options;
}

}  // namespace

tensor read_csv_tensor(const std::string& path, dtype dtype, csv_options options) {
  return read_csv(path, tensor_options(dtype, std::move(options))).to_tensor({}, dtype);
}

tensor read_csv_tensor_string(std::string_view text, dtype dtype, csv_options options) {
  return read_csv_string(text, tensor_options(dtype, std::move(options))).to_tensor({}, dtype);
}

// The text of a batch reader is a window of the stream: `buf` holds the bytes from the start of
// the current row on, refilled as batches are taken; rows are only cut where the window holds
// at least one byte past their line break, so a row is never split between two windows.
struct csv_batch_reader::state {
  std::string owned;                       // from_string: the text `in` reads
  std::unique_ptr<detail::byte_stream> in;
  std::vector<char> buf;                   // unread text (from `pos` on)
  std::size_t pos = 0;                     // next row in `buf`
  std::int64_t line = 1;                   // line number of buf[0]
  bool at_end = false;                     // `in` has nothing more
  std::size_t want = std::size_t{1} << 20; // bytes after `pos` to have before scanning a batch
  csv_options options;
  detail::csv_dialect dialect;
  detail::csv_layout layout;
  std::unique_ptr<detail::csv_na_set> na;
  std::int64_t rows_per_batch = 0;
  std::int64_t rows_left = INT64_MAX;  // `nrows` minus the rows read so far

  detail::csv_source source() const {
    detail::csv_source src;
    static const char nothing = '\0';
    src.data = buf.empty() ? &nothing : buf.data();
    src.eof = src.data + buf.size();
    src.where = in->where();
    src.first_line = line;
    return src;
  }

  // Reads until `want` bytes follow `pos` or the stream ends.
  void fill() {
    while (!at_end && buf.size() - pos < want) {
      // Drop what was read before: the window never grows beyond about a batch.
      if (pos > 0 && pos >= buf.size() / 2) {
        const detail::csv_source src = source();
        line = detail::csv_line_of(src, src.data + pos);
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
        pos = 0;
      }
      const std::size_t have = buf.size();
      buf.resize(std::max(have + (std::size_t{1} << 16), pos + want));
      const std::size_t got = in->read(reinterpret_cast<std::byte*>(buf.data() + have), buf.size() - have);
      buf.resize(have + got);
      at_end = got == 0;
    }
  }
};

csv_batch_reader::csv_batch_reader(std::unique_ptr<state> s) : state_(std::move(s)) {}

csv_batch_reader::csv_batch_reader(const std::string& path, std::int64_t rows_per_batch, const csv_options& options)
    : state_(std::make_unique<state>()) {
  options.validate();
  state_->in = detail::decompressed(detail::open_path_stream(path, options.storage), options.compression);
  start(rows_per_batch, options);
}

csv_batch_reader csv_batch_reader::from_string(std::string text, std::int64_t rows_per_batch,
                                               const csv_options& options) {
  options.validate();
  auto s = std::make_unique<state>();
  s->owned = std::move(text);
  s->in = detail::decompressed(
      detail::memory_stream(std::as_bytes(std::span<const char>(s->owned.data(), s->owned.size())), "<string>"),
      options.compression);
  csv_batch_reader reader(std::move(s));
  reader.start(rows_per_batch, options);
  return reader;
}

void csv_batch_reader::start(std::int64_t rows_per_batch, const csv_options& options) {
  if (rows_per_batch <= 0)
    fail(error_kind::value, "csv_batch_reader: rows per batch must be >= 1, got ", rows_per_batch);
  state& s = *state_;
  s.rows_per_batch = rows_per_batch;
  if (options.nrows) s.rows_left = *options.nrows;
  // The header (and the first row, which tells the number of fields without one) must lie whole
  // in the window: a window that ends inside them makes the layout fail or look short, so it is
  // read again from a larger window until the stream has ended. sep=None is told from the same
  // first lines.
  for (;;) {
    s.fill();
    const detail::csv_source src = s.source();
    try {
      s.options = detail::with_sep(src, options);
      s.dialect = detail::csv_dialect::from(s.options);
      s.layout = detail::make_layout(s.dialect, src, s.options, detail::skip_bom(src));
      if (s.at_end) break;
      detail::csv_row_counter one{0, 1};
      const char* end = detail::csv_tokenize(s.dialect, src, s.layout.data_begin, src.eof, src.eof, one);
      if (end != nullptr && end < src.eof) break;
    } catch (const error&) {
      if (s.at_end) throw;
    }
    s.want *= 2;
  }
  s.na = std::make_unique<detail::csv_na_set>(s.options);
  s.pos = static_cast<std::size_t>(s.layout.data_begin - s.source().data);
  s.layout.data_begin = nullptr;  // points into the window, which moves
}

csv_batch_reader::~csv_batch_reader() = default;
csv_batch_reader::csv_batch_reader(csv_batch_reader&&) noexcept = default;
csv_batch_reader& csv_batch_reader::operator=(csv_batch_reader&&) noexcept = default;

std::optional<csv_table> csv_batch_reader::next() {
  state& s = *state_;
  for (;;) {
    s.fill();
    const detail::csv_source src = s.source();
    const char* begin = src.data + s.pos;
    if (begin >= src.eof || s.rows_left == 0) return std::nullopt;  // fill() read to the end
    // The end of the batch is found by a serial scan that only tracks quotes and line breaks.
    const std::int64_t rows = std::min(s.rows_per_batch, s.rows_left);
    detail::csv_row_counter counter{0, rows};
    const char* end = nullptr;
    try {
      end = detail::csv_tokenize(s.dialect, src, begin, src.eof, s.at_end ? nullptr : src.eof, counter);
    } catch (const error&) {
      if (s.at_end) throw;  // a quote that really never closes
    }
    // Complete: the stream has ended, or the window holds the whole batch and a byte more (so the
    // last row's line break, "\r\n" included, was seen whole).
    if (!s.at_end && (end == nullptr || counter.rows < rows || end >= src.eof)) {
      s.want = std::max(s.want, static_cast<std::size_t>(src.eof - begin)) * 2;
      continue;
    }
    if (counter.rows == 0) {
      s.pos = s.buf.size();
      return std::nullopt;
    }
    s.rows_left -= counter.rows;
    const detail::csv_context ctx{&s.dialect, &src, &s.layout, s.na.get(),
                                  detail::csv_number_format::from(s.options)};
    table t = detail::read_range(ctx, s.options, begin, end);
    s.pos = static_cast<std::size_t>(end - src.data);
    // The next window holds about one batch more than this one took.
    s.want = std::max(s.want, static_cast<std::size_t>(end - begin) + (std::size_t{1} << 16));
    return t;
  }
}

const std::vector<std::string>& csv_batch_reader::names() const { return state_->layout.names; }

}  // namespace tb
