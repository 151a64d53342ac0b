// `read_csv` of a remote object, parsed while it downloads: the read-ahead stream (the one
// `csv_batch_reader` reads through) fetches the next batch of parts while the rows that already
// arrived are parsed on every thread; the pieces are then joined into the table a whole-file read
// gives.
//
// - A piece's inferred columns get the types inference saw in that piece. Once the end is reached
//   the file's types are known (the pieces' inference flags OR-ed, as a whole-file read ORs its
//   blocks'); a piece whose types differ is parsed again from the text, which is kept whole (as
//   a whole-file read keeps it), with the file's types given.
// - Categorical columns are read as strings and coded once at the end (one vocabulary).
// - A piece ends at the last row known complete: the last line break when the text holds no
//   quote or escape character, else where the tokenizer saw the last complete row end.

#include <algorithm>
#include <cstring>
#include <memory>

#include "io/csv/reader_internal.hpp"
#include "tensorbridge/core/error.hpp"
#include "io/csv/streamed_internal.hpp"
#include "io/decompress_internal.hpp"
#include "io/source/stream_internal.hpp"

namespace tb::detail {

namespace {

// The text so far, in one buffer that grows (doubling) past the size expected.
class text_buffer {
 public:
  explicit text_buffer(std::size_t expected) { grow(std::max<std::size_t>(expected, 1)); }
  char* data() const { return reinterpret_cast<char*>(bytes_->data()); }
  std::size_t size() const { return size_; }
  // Reads from `in` until `want` more bytes arrived; false once `in` ended.
  bool arrive(byte_stream& in, std::size_t want) {
    const std::size_t target = size_ + want;
    while (size_ < target) {
      if (size_ == bytes_->nbytes()) {
        // Full (the expected size arrived): grow only if the stream has more.
        std::byte next;
        if (in.read(&next, 1) == 0) return false;
        grow(size_ * 2);
        bytes_->data()[size_++] = next;
        continue;
      }
      const std::size_t got = in.read(bytes_->data() + size_, std::min(bytes_->nbytes(), target) - size_);
      if (got == 0) return false;
      size_ += got;
    }
    return true;
  }

 private:
  void grow(std::size_t capacity) {
    auto bigger = storage::allocate(capacity);
    if (size_ != 0) std::memcpy(bigger->data(), bytes_->data(), size_);
    bytes_ = std::move(bigger);
  }
  std::shared_ptr<storage> bytes_;
  std::size_t size_ = 0;
};

// Rows parsed from the text bytes [begin, end).
struct piece {
  table rows;
  std::vector<std::uint8_t> saw;  // inference flags per column (inferred columns only)
  std::size_t begin = 0, end = 0;
};

// The byte offset just past the last row of [from, eof) known to be complete, or `from`.
std::size_t complete_rows_end(const csv_dialect& d, const csv_source& src, std::size_t from) {
  const char* begin = src.data + from;
  const auto n = static_cast<std::size_t>(src.eof - begin);
  const auto* last_lf = static_cast<const char*>(n == 0 ? nullptr : ::memrchr(begin, '\n', n));
  if (last_lf == nullptr) return from;
  const char* cut = last_lf + 1;
  const bool plain = (d.quote == '\0' || std::memchr(begin, d.quote, n) == nullptr) &&
                     (d.escape == '\0' || std::memchr(begin, d.escape, n) == nullptr);
  if (plain) return static_cast<std::size_t>(cut - src.data);
  // A quoted field may hold the last line break: tokenize the rows that start before it. A quote
  // still open where the text ends ("unterminated" so far) means: wait for more.
  csv_row_counter counter;
  const char* end = nullptr;
  try {
    end = csv_tokenize(d, src, begin, cut, src.eof, counter);
  } catch (const error&) {
    return from;
  }
  if (end == nullptr) return from;
  if (end < src.eof || src.eof[-1] == '\n') return static_cast<std::size_t>(end - src.data);
  return from;
}

bool same_type(const csv_column_type& a, const csv_column_type& b) {
  return a.kind == b.kind && (a.kind != column_kind::tensor || a.dtype == b.dtype);
}

// Column j of every piece, end to end.
column join_column(const std::vector<piece>& pieces, std::size_t j, std::int64_t rows) {
  column out;
  const column& first = pieces.front().rows.columns()[j];
  out.name = first.name;
  out.kind = first.kind;
  const bool masked = std::any_of(pieces.begin(), pieces.end(),
                                  [&](const piece& p) { return p.rows.columns()[j].valid.has_value(); });
  if (masked) out.valid = tensor::empty({rows}, dtype::bool_);
  if (first.kind == column_kind::tensor) out.values = tensor::empty({rows}, first.values.dtype());
  std::int64_t at = 0;
  for (const piece& p : pieces) {
    const column& c = p.rows.columns()[j];
    const std::int64_t n = p.rows.num_rows();
    if (first.kind == column_kind::tensor && n != 0) {
      const tensor values = c.values.contiguous();
      std::memcpy(static_cast<std::byte*>(out.values.data()) + at * static_cast<std::int64_t>(values.itemsize()),
                  values.data(), values.nbytes());
    } else {
      out.strings.insert(out.strings.end(), c.strings.begin(), c.strings.end());
    }
    if (masked && n != 0) {
      auto* valid = static_cast<bool*>(out.valid->data()) + at;
      if (c.valid) std::memcpy(valid, c.valid->contiguous().data(), static_cast<std::size_t>(n));
      else std::fill(valid, valid + n, true);
    }
    at += n;
  }
  return out;
}

// The pieces' matrices stacked into one.
table join_matrix(std::vector<piece>& pieces, dtype type, const std::vector<std::string>& names, std::int64_t rows) {
  tensor matrix = tensor::empty({rows, static_cast<std::int64_t>(names.size())}, type);
  auto* dst = static_cast<std::byte*>(matrix.data());
  for (piece& p : pieces) {
    if (p.rows.num_rows() == 0) continue;
    const tensor m = p.rows.to_tensor({}, type);
    std::memcpy(dst, m.data(), m.nbytes());
    dst += m.nbytes();
    p.rows = table();
  }
  return table_of_matrix(matrix, names);
}

}  // namespace

table read_csv_streamed(byte_stream& in, std::size_t expected_size, std::size_t batch, const csv_options& given) {
  given.validate();
  text_buffer text(expected_size);
  csv_source src;
  src.where = in.where();
  auto view = [&] {
    static const char nothing = '\0';
    src.data = text.size() == 0 ? &nothing : text.data();
    src.eof = src.data + text.size();
  };
  csv_options options;
  csv_dialect d;
  csv_layout layout;        // the file's: given types, or none (inferred)
  csv_layout piece_layout;  // what pieces are read with: categorical read as strings
  std::unique_ptr<csv_na_set> na;
  bool have_layout = false;
  bool at_end = false;
  std::size_t parsed = 0;  // where the next piece starts
  std::vector<piece> pieces;
  while (!at_end) {
    at_end = !text.arrive(in, batch);
    view();
    if (!have_layout) {
      // The header (and the lines sep=None looks at) must have arrived whole.
      try {
        options = with_sep(src, given);
        d = csv_dialect::from(options);
        layout = make_layout(d, src, options, skip_bom(src));
        const auto data_begin = static_cast<std::size_t>(layout.data_begin - src.data);
        // ... and the first row after it, which tells the number of fields without a header.
        if (!at_end && complete_rows_end(d, src, data_begin) <= data_begin) continue;
        parsed = data_begin;
      } catch (const error&) {
        if (at_end) throw;
        continue;
      }
      have_layout = true;
      layout.data_begin = nullptr;  // the text may move as it grows
      piece_layout = layout;
      for (auto& t : piece_layout.types)
        if (t && t->kind == column_kind::categorical) t = csv_column_type{column_kind::strings, dtype::float64};
      na = std::make_unique<csv_na_set>(options);
    }
    const std::size_t cut = at_end ? text.size() : complete_rows_end(d, src, parsed);
    if (cut <= parsed) continue;
    const csv_context ctx{&d, &src, &piece_layout, na.get(), csv_number_format::from(options)};
    piece p;
    p.begin = parsed;
    p.end = cut;
    p.rows = read_range(ctx, options, src.data + parsed, src.data + cut, &p.saw);
    pieces.push_back(std::move(p));
    parsed = cut;
  }
  view();
  std::int64_t rows = 0;
  for (const piece& p : pieces) rows += p.rows.num_rows();
  if (rows == 0) fail_no_data(src, true);
  if (auto type = matrix_dtype(piece_layout)) return join_matrix(pieces, *type, layout.names, rows);

  // The file's types; pieces that inferred other ones are read again with them.
  const std::size_t ncols = layout.names.size();
  std::vector<std::uint8_t> saw(ncols, 0);
  for (const piece& p : pieces)
    for (std::size_t j = 0; j < p.saw.size(); ++j) saw[j] |= p.saw[j];
  csv_layout fixed = piece_layout;
  for (std::size_t j = 0; j < ncols; ++j)
    if (!fixed.types[j]) fixed.types[j] = csv_inferred_type(saw[j]);
  const csv_context again{&d, &src, &fixed, na.get(), csv_number_format::from(options)};
  for (piece& p : pieces) {
    bool differs = false;
    for (std::size_t j = 0; j < ncols && !differs; ++j)
      differs = !piece_layout.types[j] && !same_type(csv_inferred_type(p.saw[j]), *fixed.types[j]);
    if (differs) p.rows = read_range(again, options, src.data + p.begin, src.data + p.end);
  }
  table out;
  for (std::size_t j = 0; j < ncols; ++j) {
    column c = join_column(pieces, j, rows);
    if (layout.types[j] && layout.types[j]->kind == column_kind::categorical) c = to_categorical(c);
    out.add_column(std::move(c));
  }
  return out;
}

table read_remote_csv(const std::string& path, const csv_options& options) {
  options.validate();
  auto source = open_source(path, options.storage);
  const auto size = static_cast<std::size_t>(source->size());
  auto in = decompressed(source_stream(std::move(source), options.storage), options.compression);
  const std::size_t batch = options.storage.part_size * static_cast<std::size_t>(options.storage.concurrency);
  return read_csv_streamed(*in, size, batch, options);
}

}  // namespace tb::detail
