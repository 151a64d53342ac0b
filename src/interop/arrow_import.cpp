// Arrow arrays into tensors: fixed-width buffers are wrapped as they are, the producer kept alive
// through the storage's release; only bitmaps, strings and casts to the table's types are copied.

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "core/parallel_internal.hpp"
#include "interop/arrow_internal.hpp"
#include "tensorbridge/cast/cast.hpp"

namespace tb {
namespace {

using detail::arrow_type;
using detail::arrow_type_id;

// The producer's structs, moved out of the caller's: released exactly once, when the last tensor
// (or the importer) lets go of this owner.
struct arrow_owner {
  arrow_schema schema{};
  arrow_array array{};
  arrow_owner() = default;
  arrow_owner(const arrow_owner&) = delete;
  arrow_owner& operator=(const arrow_owner&) = delete;
  ~arrow_owner() {
    if (array.release) array.release(&array);
    if (schema.release) schema.release(&schema);
  }
};

std::shared_ptr<arrow_owner> take(arrow_schema* schema, arrow_array* array) {
  auto owner = std::make_shared<arrow_owner>();
  if (schema) {
    owner->schema = *schema;
    schema->release = nullptr;
  }
  if (array) {
    owner->array = *array;
    array->release = nullptr;
  }
  return owner;
}

std::string shown(const std::string& column) { return column.empty() ? std::string("the array") : "column \"" + column + "\""; }

// A 1-D view of `count` elements of `dt` at `data`, read-only, keeping `keep` alive.
tensor wrap(const void* data, dtype dt, std::int64_t count, const std::shared_ptr<void>& keep, bool read_only) {
  if (count == 0 || !data) return tensor::empty({0}, dt);
  const std::size_t nbytes = static_cast<std::size_t>(count) * itemsize(dt);
  auto st = storage::wrap(const_cast<void*>(data), nbytes, [hold = keep]() mutable { hold.reset(); });
  return tensor(std::move(st), dt, {count}, {1}, 0, cpu_device, read_only);
}

// Bits [first, first + count) of a bitmap as a new bool tensor.
tensor unpack_bits(const void* bitmap, std::int64_t first, std::int64_t count) {
  tensor out = tensor::empty({count}, dtype::bool_);
  auto* dst = static_cast<bool*>(out.data());
  detail::parallel_for(count, 1 << 16, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) dst[i] = detail::arrow_bit(bitmap, first + i);
  });
  return out;
}

// The validity mask of elements [first, first + count), or nothing when none is null.
std::optional<tensor> validity(const arrow_array& a, std::int64_t first, std::int64_t count) {
  if (a.null_count == 0 || !a.buffers || a.n_buffers == 0 || !a.buffers[0] || count == 0) return std::nullopt;
  tensor mask = unpack_bits(a.buffers[0], a.offset + first, count);
  const auto* v = static_cast<const bool*>(mask.data());
  for (std::int64_t i = 0; i < count; ++i)
    if (!v[i]) return mask;
  return std::nullopt;
}

[[noreturn]] void unsupported(const std::string& col, const std::string& type) {
  fail(error_kind::type, shown(col), ": the Arrow type ", type,
       " is not supported; tensorbridge imports numbers, bools, strings, dictionaries of strings, timestamps, "
       "dates, durations and fixed-size lists of numbers (select or cast other columns first)");
}

// Writes `fill` where `mask` is false into a copy of `values` (rows of any shape), drops the mask.
void apply_fill(arrow_column& c, double fill, const std::string& col) {
  if (!c.valid) return;
  tensor scalar = tensor::empty({1}, dtype::float64);
  *static_cast<double*>(scalar.data()) = fill;
  tensor element;
  try {
    element = is_floating(c.values.dtype()) ? cast(scalar, c.values.dtype())
                                             : cast(scalar, c.values.dtype(), {casting::unsafe, /*checked=*/true});
    if (!is_floating(c.values.dtype()) && std::trunc(fill) != fill) throw error(error_kind::value, "");
  } catch (const error&) {
    fail(error_kind::value, shown(col), ": fill_value ", fill, " cannot be stored in ", name(c.values.dtype()),
         "; pass a fill_value that ", name(c.values.dtype()), " holds exactly");
  }
  tensor out = c.values.copy();
  const std::int64_t row = out.numel() / std::max<std::int64_t>(out.shape()[0], 1);
  const std::size_t size = out.itemsize();
  const auto* valid = static_cast<const bool*>(c.valid->data());
  auto* base = static_cast<std::byte*>(out.data());
  for (std::int64_t r = 0; r < out.shape()[0]; ++r)
    if (!valid[r])
      for (std::int64_t k = 0; k < row; ++k) std::memcpy(base + (r * row + k) * size, element.data(), size);
  c.values = out;
  c.valid.reset();
}

std::string utf8_at(const arrow_array& a, const arrow_type& t, std::int64_t i) {
  if (t.id == arrow_type_id::utf8 || t.id == arrow_type_id::binary) {
    const auto* off = static_cast<const std::int32_t*>(a.buffers[1]);
    return std::string(static_cast<const char*>(a.buffers[2]) + off[i], static_cast<std::size_t>(off[i + 1] - off[i]));
  }
  if (t.id == arrow_type_id::large_utf8 || t.id == arrow_type_id::large_binary) {
    const auto* off = static_cast<const std::int64_t*>(a.buffers[1]);
    return std::string(static_cast<const char*>(a.buffers[2]) + off[i], static_cast<std::size_t>(off[i + 1] - off[i]));
  }
  // A view: length, then 12 inline bytes or (prefix, buffer index, offset).
  const auto* view = static_cast<const std::uint8_t*>(a.buffers[1]) + 16 * i;
  std::int32_t len;
  std::memcpy(&len, view, 4);
  if (len <= 12) return std::string(reinterpret_cast<const char*>(view + 4), static_cast<std::size_t>(len));
  std::int32_t index, off;
  std::memcpy(&index, view + 8, 4);
  std::memcpy(&off, view + 12, 4);
  return std::string(static_cast<const char*>(a.buffers[2 + index]) + off, static_cast<std::size_t>(len));
}

bool is_text(const arrow_type& t) {
  return t.id == arrow_type_id::utf8 || t.id == arrow_type_id::large_utf8 || t.id == arrow_type_id::utf8_view;
}

std::vector<std::string> strings_of(const arrow_array& a, const arrow_type& t, std::int64_t first, std::int64_t count,
                                    const std::optional<tensor>& mask) {
  std::vector<std::string> out(static_cast<std::size_t>(count));
  const bool* valid = mask ? static_cast<const bool*>(mask->data()) : nullptr;
  for (std::int64_t i = 0; i < count; ++i)
    if (!valid || valid[i]) out[static_cast<std::size_t>(i)] = utf8_at(a, t, a.offset + first + i);
  return out;
}

// Elements [first, first + count) of `a` (relative to its own offset) as a column.
arrow_column import_node(const arrow_schema& s, const arrow_array& a, const std::string& col, std::int64_t first,
                         std::int64_t count, const std::shared_ptr<void>& keep, const arrow_import_options& options) {
  const arrow_type t = detail::parse_arrow_type(s, col);
  arrow_column c;
  c.name = s.name ? s.name : "";
  c.valid = validity(a, first, count);
  const std::int64_t at = a.offset + first;
  if (s.dictionary) {
    const arrow_type vt = detail::parse_arrow_type(*s.dictionary, col);
    if (!is_text(vt))
      unsupported(col, "dictionary<" + detail::arrow_type_name(vt, s.dictionary->format) + ">");
    c.kind = arrow_column_kind::dictionary;
    const arrow_array& d = *a.dictionary;
    c.strings = strings_of(d, vt, 0, d.length, std::nullopt);
    tensor raw = wrap(count ? static_cast<const std::byte*>(a.buffers[1]) + at * itemsize(t.dtype) : nullptr, t.dtype,
                      count, keep, options.read_only);
    // Codes must index the dictionary; a null's code is -1, as in pandas.
    const tensor wide = t.dtype == dtype::int32 ? raw : cast(raw, dtype::int64, {casting::unsafe, false});
    const bool* valid = c.valid ? static_cast<const bool*>(c.valid->data()) : nullptr;
    const std::int64_t n_dict = d.length;
    for (std::int64_t i = 0; i < count; ++i) {
      if (valid && !valid[i]) continue;
      const std::int64_t code = t.dtype == dtype::int32 ? static_cast<const std::int32_t*>(wide.data())[i]
                                                        : static_cast<const std::int64_t*>(wide.data())[i];
      if (code < 0 || code >= n_dict)
        fail(error_kind::format, shown(col), ": dictionary index ", code, " at row ", i,
             " is outside the dictionary's ", n_dict, " values");
    }
    c.values = (t.dtype == dtype::int32 && !c.valid) ? raw : cast(wide, dtype::int32, {casting::unsafe, false});
    if (valid) {
      auto* w = static_cast<std::int32_t*>(c.values.data());
      for (std::int64_t i = 0; i < count; ++i)
        if (!valid[i]) w[i] = -1;
    }
    return c;
  }
  switch (t.id) {
    case arrow_type_id::primitive:
    case arrow_type_id::timestamp:
    case arrow_type_id::duration:
    case arrow_type_id::date32:
    case arrow_type_id::date64:
    case arrow_type_id::time32:
    case arrow_type_id::time64: {
      const std::size_t size = itemsize(t.dtype);
      c.values = wrap(count ? static_cast<const std::byte*>(a.buffers[1]) + at * static_cast<std::int64_t>(size) : nullptr,
                      t.dtype, count, keep, options.read_only);
      if (t.id == arrow_type_id::timestamp || t.id == arrow_type_id::date64) {
        c.time_type = "datetime64[" + t.unit + "]";
        c.timezone = t.timezone;
      } else if (t.id == arrow_type_id::duration || t.id == arrow_type_id::time32 || t.id == arrow_type_id::time64) {
        c.time_type = "timedelta64[" + t.unit + "]";  // a time of day: the time since midnight
      } else if (t.id == arrow_type_id::date32) {
        // Days: as seconds in int64, the table's one representation of instants.
        tensor secs = cast(c.values, dtype::int64);
        auto* v = static_cast<std::int64_t*>(secs.data());
        for (std::int64_t i = 0; i < count; ++i) v[i] *= 86400;
        c.values = secs;
        c.time_type = "datetime64[s]";
      }
      if (t.dtype == dtype::int32 && !c.time_type.empty()) c.values = cast(c.values, dtype::int64);
      break;
    }
    case arrow_type_id::boolean:
      c.values = count ? unpack_bits(a.buffers[1], at, count) : tensor::empty({0}, dtype::bool_);
      break;
    case arrow_type_id::null:
      c.values = tensor::zeros({count}, dtype::float64);
      c.valid = tensor::zeros({count}, dtype::bool_);
      if (count == 0) c.valid.reset();
      break;
    case arrow_type_id::utf8:
    case arrow_type_id::large_utf8:
    case arrow_type_id::utf8_view:
      c.kind = arrow_column_kind::strings;
      c.strings = strings_of(a, t, first, count, c.valid);
      return c;
    case arrow_type_id::fixed_list: {
      const arrow_schema& cs = *s.children[0];
      const arrow_array& ca = *a.children[0];
      const std::string child = detail::child_path(col, cs, 0);
      const arrow_type ct = detail::parse_arrow_type(cs, child);
      if (cs.dictionary || (ct.id != arrow_type_id::primitive && ct.id != arrow_type_id::boolean))
        unsupported(col, "fixed_size_list<" + detail::arrow_type_name(ct, cs.format) + ">");
      arrow_column inner = import_node(cs, ca, child, at * t.fixed_size, count * t.fixed_size, keep, options);
      if (inner.valid)
        fail(error_kind::type, shown(col), ": the values inside its fixed-size lists have nulls; tensorbridge imports "
             "fixed-size lists whose values are all present (fill them first, e.g. pyarrow.compute.fill_null)");
      c.values = inner.values.reshape({count, t.fixed_size});
      break;
    }
    default:
      unsupported(col, detail::arrow_type_name(t, s.format));
  }
  if (options.fill_value) apply_fill(c, *options.fill_value, col);
  return c;
}

std::vector<arrow_column> columns_of(const arrow_schema& schema, const std::shared_ptr<arrow_owner>& owner,
                                     const arrow_import_options& options) {
  const arrow_array& a = owner->array;
  validate_arrow(schema, a, schema.name ? schema.name : "");
  const arrow_type t = detail::parse_arrow_type(schema, "");
  std::vector<arrow_column> out;
  const std::shared_ptr<void> keep = owner;
  if (!is_record_batch(schema)) {
    out.push_back(import_node(schema, a, schema.name ? schema.name : "", 0, a.length, keep, options));
    return out;
  }
  if (a.null_count != 0 && a.buffers[0] && validity(a, 0, a.length))
    fail(error_kind::type, "the Arrow struct array has null rows; a record batch has none (import its fields one by one)");
  for (std::int64_t i = 0; i < schema.n_children; ++i) {
    const std::string col = detail::child_path("", *schema.children[i], i);
    out.push_back(import_node(*schema.children[i], *a.children[i], col, a.offset, a.length, keep, options));
    if (out.back().name.empty()) out.back().name = col;
  }
  return out;
}

}  // namespace

std::int64_t arrow_column::length() const noexcept {
  return kind == arrow_column_kind::strings ? static_cast<std::int64_t>(strings.size()) : values.shape()[0];
}

arrow_column import_arrow(arrow_schema* schema, arrow_array* array, const arrow_import_options& options) {
  auto owner = take(schema, array);
  validate_arrow(owner->schema, owner->array, owner->schema.name ? owner->schema.name : "");
  const std::shared_ptr<void> keep = owner;
  const arrow_schema& s = owner->schema;
  return import_node(s, owner->array, s.name ? s.name : "", 0, owner->array.length, keep, options);
}

std::vector<arrow_column> import_arrow_columns(arrow_schema* schema, arrow_array* array,
                                               const arrow_import_options& options) {
  auto owner = take(schema, array);
  return columns_of(owner->schema, owner, options);
}

bool is_record_batch(const arrow_schema& schema) noexcept {
  return schema.format && std::string_view(schema.format) == "+s" && !schema.dictionary;
}

std::vector<std::vector<arrow_column>> import_arrow_batches(arrow_array_stream* stream,
                                                            const arrow_import_options& options,
                                                            bool* record_batches) {
  if (!stream || !stream->release) fail(error_kind::format, "the Arrow stream was already released (release is null)");
  arrow_array_stream held = *stream;
  stream->release = nullptr;
  struct closer {
    arrow_array_stream* s;
    ~closer() { if (s->release) s->release(s); }
  } close{&held};
  auto failure = [&](int code, const char* what) {
    const char* message = held.get_last_error ? held.get_last_error(&held) : nullptr;
    fail(error_kind::io, "the Arrow stream failed in ", what, " (error ", code, "): ",
         message ? message : "the producer gave no message");
  };
  auto schema_owner = take(nullptr, nullptr);
  if (int rc = held.get_schema(&held, &schema_owner->schema); rc != 0) failure(rc, "get_schema");
  if (!schema_owner->schema.release) fail(error_kind::format, "the Arrow stream gave a released schema");
  const arrow_schema& s = schema_owner->schema;
  if (record_batches) *record_batches = is_record_batch(s);
  std::vector<std::vector<arrow_column>> batches;
  while (true) {
    auto batch = std::make_shared<arrow_owner>();
    if (int rc = held.get_next(&held, &batch->array); rc != 0) failure(rc, "get_next");
    if (!batch->array.release) break;
    batches.push_back(columns_of(s, batch, options));
  }
  if (batches.empty()) {
    // No batch: one empty batch of the schema's columns, so that the columns are still known.
    std::vector<arrow_column> empty;
    for (std::int64_t i = 0; is_record_batch(s) && i < s.n_children; ++i) {
      arrow_column c;
      c.name = detail::child_path("", *s.children[i], i);
      const arrow_type t = detail::parse_arrow_type(*s.children[i], c.name);
      if (is_text(t)) c.kind = arrow_column_kind::strings;
      else c.values = tensor::empty({0}, t.id == arrow_type_id::primitive || t.id == arrow_type_id::boolean ? t.dtype : dtype::int64);
      empty.push_back(std::move(c));
    }
    if (!empty.empty()) batches.push_back(std::move(empty));
  }
  return batches;
}

std::vector<arrow_column> import_arrow_stream(arrow_array_stream* stream, const arrow_import_options& options,
                                              bool* record_batches) {
  std::vector<std::vector<arrow_column>> batches = import_arrow_batches(stream, options, record_batches);
  std::vector<arrow_column> out;
  for (std::size_t i = 0; !batches.empty() && i < batches[0].size(); ++i) {
    std::vector<arrow_column> chunks;
    for (auto& b : batches) chunks.push_back(std::move(b[i]));
    out.push_back(concat_arrow_columns(chunks));
  }
  return out;
}

arrow_column concat_arrow_columns(std::span<const arrow_column> chunks) {
  if (chunks.empty()) fail(error_kind::value, "concat_arrow_columns: no chunks");
  if (chunks.size() == 1) return chunks[0];
  const arrow_column& head = chunks[0];
  arrow_column out;
  out.name = head.name;
  out.kind = head.kind;
  out.time_type = head.time_type;
  out.timezone = head.timezone;
  std::int64_t total = 0;
  bool any_mask = false;
  for (const arrow_column& c : chunks) {
    if (c.kind != head.kind || (c.kind != arrow_column_kind::strings &&
                                (c.values.dtype() != head.values.dtype() || c.values.ndim() != head.values.ndim() ||
                                 (c.values.ndim() == 2 && c.values.shape()[1] != head.values.shape()[1]))))
      fail(error_kind::type, "column \"", head.name, "\": its chunks have different types");
    total += c.length();
    any_mask = any_mask || c.valid.has_value();
  }
  if (head.kind == arrow_column_kind::strings) {
    out.strings.reserve(static_cast<std::size_t>(total));
    for (const arrow_column& c : chunks) out.strings.insert(out.strings.end(), c.strings.begin(), c.strings.end());
  } else if (head.kind == arrow_column_kind::dictionary) {
    // The chunks' dictionaries may differ: one shared vocabulary, codes remapped.
    std::unordered_map<std::string, std::int32_t> index;
    out.values = tensor::empty({total}, dtype::int32);
    auto* dst = static_cast<std::int32_t*>(out.values.data());
    for (const arrow_column& c : chunks) {
      std::vector<std::int32_t> remap;
      for (const std::string& s : c.strings) {
        auto [it, added] = index.emplace(s, static_cast<std::int32_t>(out.strings.size()));
        if (added) out.strings.push_back(s);
        remap.push_back(it->second);
      }
      const auto* codes = static_cast<const std::int32_t*>(c.values.data());
      for (std::int64_t i = 0; i < c.length(); ++i) *dst++ = codes[i] < 0 ? -1 : remap[static_cast<std::size_t>(codes[i])];
    }
  } else {
    shape_t shape = head.values.shape();
    shape[0] = total;
    out.values = tensor::empty(shape, head.values.dtype());
    // One gather: each chunk copied into its rows, the chunks spread over the threads.
    std::vector<std::int64_t> starts;
    std::int64_t row = 0;
    for (const arrow_column& c : chunks) {
      starts.push_back(row);
      row += c.length();
    }
    detail::parallel_for(static_cast<std::int64_t>(chunks.size()), 1, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) {
        const arrow_column& c = chunks[static_cast<std::size_t>(i)];
        if (c.length() == 0) continue;
        const auto s = static_cast<std::size_t>(i);
        copy_into(c.values, out.values.slice(starts[s], starts[s] + c.length()));
      }
    });
  }
  if (any_mask) {
    tensor mask = tensor::empty({total}, dtype::bool_);
    auto* dst = static_cast<bool*>(mask.data());
    for (const arrow_column& c : chunks) {
      const auto n = static_cast<std::size_t>(c.length());
      if (c.valid) std::memcpy(dst, c.valid->data(), n);
      else std::memset(dst, 1, n);
      dst += n;
    }
    out.valid = mask;
  }
  return out;
}

}  // namespace tb
