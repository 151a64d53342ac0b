#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "io/csv/chunker_internal.hpp"
#include "io/csv/column_pass_internal.hpp"

namespace tb::detail {
namespace {

using form = csv_block_column::form;

constexpr std::uint64_t nan_bits = std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN());

// A double read in place, as the column holds floats: the short form, else fast_float up to `limit`.
const char* parse_double(const char* p, const char* limit, double& v) {
  const char* end = csv_parse_float_short(p, v);
  return end != nullptr ? end : csv_parse_float(p, limit, v);
}

// The end of an unquoted field at `p` (its quote characters inside are text, as the tokenizer
// reads them).
const char* plain_field_end(const csv_dialect& d, const char* p, const char* eof) {
  const char* end = csv_skip_plain(d, p, eof);
  while (end < eof && (d.at(*end) == csv_plain || d.at(*end) == csv_quote)) ++end;
  return end;
}

void lose(csv_block_column& c) {
  c.held = form::lost;
  c.slots.release();
  c.text = {};
  c.missing = {};
}

// Turns the kept integers (or nothing but missing values) into doubles, missing rows NaN: the exact
// integer rounded once, as reading its text as a double gives; a "-0" read as an integer cannot be
// told from 0 any more, so such a column is lost instead. Bools and text are lost too.
void widen_to_double(csv_block_column& c) {
  if (c.held == form::float64 || c.held == form::lost) return;
  if (c.negative_zero || c.held == form::boolean || c.held == form::text) return lose(c);
  if (c.held == form::int64) {
    c.slots.for_each([](std::uint64_t& s) { s = std::bit_cast<std::uint64_t>(static_cast<double>(std::bit_cast<std::int64_t>(s))); });
  } else if (c.held == form::uint64) {
    c.slots.for_each([](std::uint64_t& s) { s = std::bit_cast<std::uint64_t>(static_cast<double>(s)); });
  }
  for (const std::int64_t r : c.missing) c.slots[static_cast<std::size_t>(r)] = nan_bits;
  c.missing.clear();
  c.held = form::float64;
}

// Keeps one value that inference classified as `kind` (see csv_classify_value for `bits`).
void keep(csv_block_column& c, std::uint8_t kind, std::uint64_t bits, std::string_view number) {
  switch (kind & ~csv_saw_negative) {
    case csv_saw_int: {
      const bool negative_zero = bits == 0 && csv_trim(number).front() == '-';
      if (c.held == form::none) c.held = form::int64;
      if (c.held == form::int64) {
        c.negative_zero = c.negative_zero || negative_zero;
        c.slots.push_back(bits);
      } else if (c.held == form::uint64 && !(kind & csv_saw_negative) && !negative_zero) {
        c.slots.push_back(bits);
      } else if (c.held == form::float64) {
        const double d = negative_zero ? -0.0 : static_cast<double>(std::bit_cast<std::int64_t>(bits));
        c.slots.push_back(std::bit_cast<std::uint64_t>(d));
      } else {
        // bool then numbers (strings), negatives beside values beyond int64 (strings), or "-0" there
        // (which a uint64 column refuses).
        lose(c);
      }
      return;
    }
    case csv_saw_uint64:
      if (c.held == form::none) c.held = form::uint64;
      if (c.held == form::int64) {
        if ((c.flags & csv_saw_negative) || c.negative_zero) return lose(c);
        c.held = form::uint64;  // the kept int64 values are non-negative: the same bits
      }
      if (c.held == form::uint64) c.slots.push_back(bits);
      else if (c.held == form::float64) c.slots.push_back(std::bit_cast<std::uint64_t>(static_cast<double>(bits)));
      else lose(c);
      return;
    case csv_saw_bool:
      if (c.held == form::none) c.held = form::boolean;
      if (c.held == form::boolean) c.slots.push_back(bits);
      else lose(c);
      return;
    default:  // a float, NaN, or an integer beyond uint64: `bits` holds the double
      widen_to_double(c);
      if (c.held == form::float64) c.slots.push_back(bits);
      return;
  }
}

// Copies what block `c` kept (`rows` rows) into output column `o` from row `first`; false when what it
// kept cannot give the column's type (then the block converts the column from its text again).
bool take(csv_block_column& c, const csv_column_out& o, std::int64_t first, std::int64_t rows) {
  if (c.held == form::lost) return false;
  if (rows == 0) return true;
  const auto n = static_cast<std::size_t>(rows);
  const auto at = static_cast<std::size_t>(first);
  const auto mark_missing = [&] {
    if (c.missing.empty()) return true;
    if (o.valid == nullptr) return false;
    for (const std::int64_t r : c.missing) o.valid[at + static_cast<std::size_t>(r)] = false;
    return true;
  };
  if (o.type.kind == column_kind::strings) {
    if (c.held != form::text && c.held != form::none) return false;
    if (!mark_missing()) return false;
    if (c.held == form::text) std::move(c.text.begin(), c.text.end(), o.strings->begin() + static_cast<std::ptrdiff_t>(at));
    return true;
  }
  if (o.type.kind != column_kind::tensor) return false;
  switch (o.type.dtype) {
    case dtype::float64:
      widen_to_double(c);
      if (c.held != form::float64) return false;
      break;
    case dtype::int64:
      if (c.held != form::int64 || !c.missing.empty()) return false;
      break;
    case dtype::uint64:
      if ((c.held != form::uint64 && c.held != form::int64) || !c.missing.empty()) return false;
      break;
    case dtype::bool_: {
      if (c.held != form::boolean && c.held != form::none) return false;
      if (!mark_missing()) return false;
      bool* dst = reinterpret_cast<bool*>(o.data) + at;
      for (std::size_t r = 0; r < n; ++r) dst[r] = c.slots[r] != 0;
      return true;
    }
    default:
      return false;
  }
  c.slots.copy_to(reinterpret_cast<std::uint64_t*>(o.data) + at);
  return true;
}

}  // namespace

void csv_slots::copy_to(std::uint64_t* dst) const noexcept {
  const std::size_t in_region = std::min(size_, capacity_);
  if (dst != region_ && in_region != 0) std::memcpy(dst, region_, in_region * sizeof(std::uint64_t));
  if (!overflow_.empty()) std::memcpy(dst + in_region, overflow_.data(), overflow_.size() * sizeof(std::uint64_t));
}

void csv_block_column::reset(bool keep_values) {
  flags = 0;
  held = keep_values ? form::none : form::lost;
  negative_zero = false;
  slots.clear();
  text.clear();
  missing.clear();
}

void csv_column_sink::reset() {
  // Columns of a given type are converted from their text once their rows are placed; so is every
  // column when some missing-value string is a number (it must be tested before the number).
  for (std::size_t j = 0; j < columns.size(); ++j)
    columns[j].reset(!ctx.layout->types[j] && !ctx.na->has_numeric());
  rows = 0;
  fast_misses = 0;
  fast = csv_matrix_fast_ok(ctx) && ctx.dialect->escape == '\0';
}

const char* csv_column_sink::fast_row(const char* p, const char* eof) {
  const csv_dialect& d = *ctx.dialect;
  const csv_layout& layout = *ctx.layout;
  const char* const row_begin = p;
  const std::int64_t last = layout.file_columns - 1;
  std::int64_t kept = 0;  // output columns [0, kept) got a value for this row (undone on refusal)
  const auto refuse = [&]() -> const char* {
    for (std::int64_t j = 0; j < kept; ++j) {
      csv_block_column& c = columns[static_cast<std::size_t>(j)];
      if (c.held == form::text) c.text.pop_back();
      else c.slots.pop_back();
    }
    ++fast_misses;
    return nullptr;
  };
  if (p >= eof || d.at(*p) != csv_plain) return refuse();  // a blank, comment or quoted first field
  for (std::int64_t j = 0;; ++j) {
    const std::int64_t out = layout.out_of_file[static_cast<std::size_t>(j)];
    if (eof - p < 32) return refuse();
    const char* end;
    if (out < 0) {
      // A field left out is skipped as the tokenizer skips it, unless quoted (its quotes may hold
      // delimiters and line breaks): then the tokenizer reads the row.
      if (d.at(*p) == csv_quote) return refuse();
      end = plain_field_end(d, p, eof);
    } else {
      if (out != kept) return refuse();  // columns are kept in file order
      csv_block_column& c = columns[static_cast<std::size_t>(out)];
      if (c.held == form::float64 && (c.flags & csv_saw_float)) {  // as `field` reads it in place
        double v;
        end = parse_double(p, eof, v);
        if (end == nullptr || std::isnan(v)) return refuse();
        c.slots.push_back(std::bit_cast<std::uint64_t>(v));
      } else if (c.held == form::int64 && !(c.flags & (csv_saw_float | csv_saw_bool | csv_saw_text))) {
        std::int64_t v;
        end = csv_parse_int64(p, v);
        if (end == nullptr || (v == 0 && *p == '-')) return refuse();
        if (v < 0) c.flags |= csv_saw_negative;
        c.slots.push_back(std::bit_cast<std::uint64_t>(v));
      } else if (c.held == form::text && (c.flags & csv_saw_text)) {
        if (d.at(*p) != csv_plain) return refuse();  // quoted, or empty
        end = plain_field_end(d, p, eof);
        const std::string_view text(p, static_cast<std::size_t>(end - p));
        if (ctx.na->contains(text) || !is_valid_utf8(text)) return refuse();
        c.text.emplace_back(text);
      } else {
        return refuse();
      }
      ++kept;
    }
    p = end;
    if (p >= eof) return refuse();
    const char c = *p;
    if (j < last) {
      if (c != d.sep) return refuse();
      ++p;
      continue;
    }
    if (c == '\n') p += 1;
    else if (c == '\r') p += (p + 1 < eof && p[1] == '\n') ? 2 : 1;
    else return refuse();
    break;
  }
  fast_misses = 0;
  end_row(row_begin, layout.file_columns);
  return p;
}

void csv_column_sink::reserve_rows(const char* row_begin) {
  if (rows == 0) first_row_begin = row_begin;
  if (rows != sample_rows) return;
  const auto sampled = static_cast<std::size_t>(row_begin - first_row_begin);
  if (sampled == 0) return;
  const std::size_t expected = block_bytes * static_cast<std::size_t>(sample_rows) / sampled * 9 / 8 + 16;
  for (csv_block_column& c : columns) {
    if (c.held == form::text) c.text.reserve(expected);
    else if (c.held != form::lost) c.slots.reserve(expected);
  }
}

void csv_column_sink::field(std::int64_t index, csv_field f) {
  if (index >= ctx.layout->file_columns) return;
  const std::int64_t out = ctx.layout->out_of_file[static_cast<std::size_t>(index)];
  if (out < 0) return;
  csv_block_column& c = columns[static_cast<std::size_t>(out)];
  // The common forms read in place, as classifying them would: an integer while the column has seen
  // no float or bool, a short decimal once it holds floats; anything else goes the general way.
  if (!f.raw && c.held != form::lost && !(c.flags & csv_saw_text) && !ctx.number.active() &&
      ctx.source->eof - f.begin >= 32) {
    if (!(c.flags & (csv_saw_float | csv_saw_bool))) {
      std::int64_t i = 0;
      if (csv_parse_int64(f.begin, i) == f.end) {
        const std::uint8_t kind = i < 0 ? csv_saw_int | csv_saw_negative : csv_saw_int;
        c.flags |= kind;
        keep(c, kind, std::bit_cast<std::uint64_t>(i), f.view());
        return;
      }
    } else if (c.held == form::float64) {
      double d;
      const char* end = parse_double(f.begin, f.end, d);
      if (end == f.end && !std::isnan(d)) {
        c.flags |= csv_saw_float;
        c.slots.push_back(std::bit_cast<std::uint64_t>(d));
        return;
      }
    }
  }
  const std::string_view text = field_text(*ctx.dialect, f, scratch);
  const bool inferred = !ctx.layout->types[static_cast<std::size_t>(out)] && !(c.flags & csv_saw_text);
  // Hashing every field against the NA set is the slow part; a field that reads as a number or a
  // bool cannot be missing unless some NA string is itself a number.
  const std::string_view number = csv_number_text(ctx.number, text, number_scratch);
  std::uint64_t bits = 0;
  std::uint8_t kind = csv_saw_text;
  if (inferred && !ctx.na->has_numeric()) {
    kind = csv_classify_value(number, c.flags, bits);
    if (kind != csv_saw_text) {
      c.flags |= kind;
      if (c.held != form::lost) keep(c, kind, bits, number);
      return;
    }
  }
  if (ctx.na->contains(text)) {
    c.flags |= csv_saw_na;
    if (c.held == form::text) {
      c.text.emplace_back();
      c.missing.push_back(rows);
    } else if (c.held == form::float64) {
      c.slots.push_back(nan_bits);
    } else if (c.held != form::lost) {
      c.slots.push_back(0);
      c.missing.push_back(rows);
    }
    return;
  }
  if (inferred) {
    if (ctx.na->has_numeric()) kind = csv_classify_value(number, c.flags, bits);
    c.flags |= kind;
  }
  if (c.held == form::lost) return;
  // Text (a column kept while inferred, so `has_numeric` is false and inference called it text).
  if (c.held != form::text) {
    if (c.held != form::none) return lose(c);
    c.held = form::text;
    c.slots.clear();
    c.text.resize(static_cast<std::size_t>(rows));
  }
  if (!is_valid_utf8(text)) csv_fail_utf8(ctx, f, out);
  c.text.emplace_back(text);
}

const char* csv_parse_column_rows(const csv_context& ctx, const char* begin, const char* stop, const char* limit,
                                  csv_column_sink& sink) {
  const char* p = begin;
  const char* const eof = ctx.source->eof;
  while (p < stop && p < eof) {
    if (sink.fast && sink.fast_misses < csv_column_sink::fast_give_up) {
      if (const char* next = sink.fast_row(p, eof)) {
        p = next;
        continue;
      }
    }
    // One row (or blank/comment lines) through the tokenizer: a row starts in [p, p + 1).
    p = csv_tokenize(*ctx.dialect, *ctx.source, p, p + 1, limit, sink);
    if (p == nullptr) return nullptr;
  }
  return p;
}

table csv_read_columns(const csv_context& ctx, const csv_options& options, const char* begin, const char* end,
                       std::vector<std::uint8_t>* saw) {
  const csv_layout& layout = *ctx.layout;
  const std::size_t ncols = layout.names.size();
  // Each block's 8-byte values go straight into its rows of one buffer per column, placed by the
  // rows counted in each block beforehand (as the matrix path does); a buffer becomes the column
  // when its type is 8 bytes wide and every block filled exactly its rows, else values are copied.
  const std::vector<std::int64_t> counted = csv_count_block_rows(*ctx.dialect, begin, end, options.block_size);
  const std::size_t nblocks = counted.size();
  std::vector<std::int64_t> region_row(nblocks + 1, 0);
  for (std::size_t b = 0; b < nblocks; ++b) region_row[b + 1] = region_row[b] + counted[b];
  std::vector<std::optional<tensor>> buffers(ncols);
  std::vector<csv_column_sink> sinks(nblocks, csv_column_sink{ctx});
  for (std::size_t j = 0; j < ncols; ++j) {
    if (layout.types[j] || ctx.na->has_numeric()) continue;  // converted from the text: nothing kept
    buffers[j] = tensor::empty({region_row[nblocks]}, dtype::uint64);
    auto* base = static_cast<std::uint64_t*>(buffers[j]->data());
    for (std::size_t b = 0; b < nblocks; ++b)
      sinks[b].columns[j].slots.place(base + region_row[b], static_cast<std::size_t>(counted[b]));
  }
  const auto blocks = csv_parse_blocks(*ctx.dialect, *ctx.source, begin, end, options.block_size,
                                       [&](std::size_t b, const char* from, const char* stop, const char* limit) {
                                         sinks[b].reset();
                                         sinks[b].block_bytes = static_cast<std::size_t>(stop - from);
                                         return csv_parse_column_rows(ctx, from, stop, limit, sinks[b]);
                                       });
  std::vector<std::int64_t> first_row(nblocks + 1, 0);
  std::vector<std::uint8_t> flags(ncols, 0);
  for (std::size_t b = 0; b < nblocks; ++b) {
    first_row[b + 1] = first_row[b] + sinks[b].rows;
    for (std::size_t j = 0; j < ncols; ++j) flags[j] |= sinks[b].columns[j].flags;
  }
  const std::int64_t rows = first_row[nblocks];
  if (saw != nullptr) *saw = flags;
  bool placed = true;  // every block's rows start where its region does
  for (std::size_t b = 0; b < nblocks; ++b)
    placed = placed && (b + 1 == nblocks ? sinks[b].rows <= counted[b] : sinks[b].rows == counted[b]);

  std::vector<column> columns(ncols);
  std::vector<csv_column_out> outs(ncols);
  for (std::size_t j = 0; j < ncols; ++j) {
    column& c = columns[j];
    csv_column_out& o = outs[j];
    c.name = layout.names[j];
    o.type = layout.types[j] ? *layout.types[j] : csv_inferred_type(flags[j]);
    const bool is_float = o.type.kind == column_kind::tensor && is_floating(o.type.dtype);
    if (o.type.kind == column_kind::tensor && placed && buffers[j] && itemsize(o.type.dtype) == 8) {
      c.values = tensor(buffers[j]->storage(), o.type.dtype, {rows}, {1}, buffers[j]->byte_offset());
      o.data = static_cast<std::byte*>(c.values.data());
    } else if (o.type.kind == column_kind::tensor) {
      c.values = tensor::empty({rows}, o.type.dtype);
      o.data = static_cast<std::byte*>(c.values.data());
    } else {
      c.kind = column_kind::strings;
      c.strings.resize(static_cast<std::size_t>(rows));
      o.strings = &c.strings;
    }
    if ((flags[j] & csv_saw_na) && !is_float) {
      c.valid = tensor::empty({rows}, dtype::bool_);
      std::memset(c.valid->data(), 1, static_cast<std::size_t>(rows));
      o.valid = static_cast<bool*>(c.valid->data());
    }
  }
  csv_run_blocks(blocks, [&](std::size_t b, const csv_block& block) {
    csv_column_sink& kept = sinks[b];
    std::vector<std::uint8_t> again(ncols, 0);
    bool any = false;
    for (std::size_t j = 0; j < ncols; ++j) {
      if (!take(kept.columns[j], outs[j], first_row[b], kept.rows)) again[j] = 1, any = true;
      lose(kept.columns[j]);  // frees the block's values
    }
    if (any) {
      csv_convert_sink sink{ctx, &outs, first_row[b], {}, {}, &again};
      csv_tokenize(*ctx.dialect, *ctx.source, block.begin, block.end, nullptr, sink);
    }
  });
  table out;
  for (std::size_t j = 0; j < ncols; ++j) {
    if (outs[j].type.kind == column_kind::categorical) out.add_column(to_categorical(columns[j]));
    else out.add_column(std::move(columns[j]));
  }
  return out;
}

}  // namespace tb::detail
