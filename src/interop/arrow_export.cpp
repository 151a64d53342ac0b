// Tensors and columns as Arrow arrays. Every exported node owns what it points to (the tensors
// whose storage it shares, the bitmaps and strings it had to build) in its private data, and its
// release frees its children first, as the specification asks of a producer.

#include <cstring>
#include <deque>

#include "interop/arrow_internal.hpp"
#include "tensorbridge/cast/cast.hpp"

namespace tb {
namespace {

struct schema_private {
  std::string format, name, metadata;
  std::vector<arrow_schema*> children;
  arrow_schema* dictionary = nullptr;
};

struct array_private {
  std::vector<const void*> buffers;
  std::vector<arrow_array*> children;
  arrow_array* dictionary = nullptr;
  std::vector<tensor> keep;  // tensors whose memory the buffers point into
  std::deque<std::string> bytes;  // bitmaps and strings built for this export (a deque: stable addresses)
};

// Releases a node this file exported: its children and dictionary first (unless a consumer moved
// them out and released them already), then what its private data owns.
template <class Node, class Private>
void release_node(Node* n) {
  auto* p = static_cast<Private*>(n->private_data);
  for (Node* c : p->children) {
    if (c->release) c->release(c);
    delete c;
  }
  if (p->dictionary) {
    if (p->dictionary->release) p->dictionary->release(p->dictionary);
    delete p->dictionary;
  }
  delete p;
  n->release = nullptr;
}

void release_schema(arrow_schema* s) { release_node<arrow_schema, schema_private>(s); }
void release_array(arrow_array* a) { release_node<arrow_array, array_private>(a); }

// Arrow's binary metadata: int32 count, then length-prefixed keys and values.
std::string encode_metadata(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  auto put = [&](std::int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put(static_cast<std::int32_t>(pairs.size()));
  for (const auto& [k, v] : pairs) {
    put(static_cast<std::int32_t>(k.size()));
    out += k;
    put(static_cast<std::int32_t>(v.size()));
    out += v;
  }
  return out;
}

schema_private* init_schema(arrow_schema* s, std::string format, std::string_view name, std::int64_t flags) {
  auto* p = new schema_private{std::move(format), std::string(name), {}, {}, nullptr};
  *s = arrow_schema{};
  s->format = p->format.c_str();
  s->name = p->name.c_str();
  s->flags = flags;
  s->release = release_schema;
  s->private_data = p;
  return p;
}

array_private* init_array(arrow_array* a, std::int64_t length, std::int64_t null_count) {
  auto* p = new array_private{};
  *a = arrow_array{};
  a->length = length;
  a->null_count = null_count;
  a->release = release_array;
  a->private_data = p;
  return p;
}

// Points `a` at its buffers and children once they are all built.
void finish(arrow_array* a, array_private* p) {
  a->n_buffers = static_cast<std::int64_t>(p->buffers.size());
  a->buffers = p->buffers.data();
  a->n_children = static_cast<std::int64_t>(p->children.size());
  a->children = p->children.data();
  a->dictionary = p->dictionary;
}
void finish(arrow_schema* s, schema_private* p) {
  s->n_children = static_cast<std::int64_t>(p->children.size());
  s->children = p->children.data();
  s->dictionary = p->dictionary;
  if (!p->metadata.empty()) s->metadata = p->metadata.data();
}

std::string primitive_format(dtype d) {
  switch (d) {
    case dtype::bool_: return "b";
    case dtype::int8: return "c";
    case dtype::uint8: return "C";
    case dtype::int16: return "s";
    case dtype::uint16: case dtype::bfloat16: return "S";
    case dtype::int32: return "i";
    case dtype::uint32: return "I";
    case dtype::int64: return "l";
    case dtype::uint64: return "L";
    case dtype::float16: return "e";
    case dtype::float32: return "f";
    case dtype::float64: return "g";
    default: break;
  }
  fail(error_kind::type, "Arrow has no ", name(d), " type; cast the tensor first (complex values: export the real "
       "and imaginary parts as two columns)");
}

// A bool tensor (true = set) packed into an Arrow bitmap owned by `p`.
const void* pack_bits(const tensor& bools, array_private* p, bool invert = false) {
  const tensor b = bools.dtype() == dtype::bool_ && bools.is_contiguous() ? bools : cast(bools, dtype::bool_);
  const std::int64_t n = b.numel();
  std::string bits(static_cast<std::size_t>((n + 7) / 8 + 1), '\0');
  const auto* v = static_cast<const bool*>(b.data());
  for (std::int64_t i = 0; i < n; ++i)
    if (v[i] != invert) bits[static_cast<std::size_t>(i >> 3)] |= static_cast<char>(1u << (i & 7));
  p->bytes.push_back(std::move(bits));
  return p->bytes.back().data();
}

std::int64_t count_false(const tensor& mask) {
  const auto* v = static_cast<const bool*>(mask.data());
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < mask.numel(); ++i) n += !v[i];
  return n;
}

// A 1-D tensor (any strides) as a primitive array; `mask` (bool) marks valid elements.
void export_flat(const tensor& t, const std::optional<tensor>& mask, std::string format, std::string_view name,
                 std::string metadata, arrow_schema* s, arrow_array* a) {
  const std::int64_t n = t.shape()[0];
  std::optional<tensor> m;
  if (mask) m = mask->is_contiguous() ? *mask : mask->contiguous();
  const std::int64_t nulls = m ? count_false(*m) : 0;
  auto* sp = init_schema(s, std::move(format), name, arrow_flag_nullable);
  sp->metadata = std::move(metadata);
  finish(s, sp);
  auto* p = init_array(a, n, nulls);
  p->buffers.push_back(nulls ? pack_bits(*m, p) : nullptr);
  if (t.dtype() == dtype::bool_) {
    p->buffers.push_back(pack_bits(t, p));
  } else {
    const tensor c = t.is_contiguous() ? t : t.contiguous();
    p->keep.push_back(c);
    p->buffers.push_back(c.data());
  }
  finish(a, p);
}

std::string bf16_metadata(dtype d) {
  return d == dtype::bfloat16 ? encode_metadata({{"ARROW:extension:name", "tensorbridge.bfloat16"},
                                                 {"ARROW:extension:metadata", ""}})
                              : std::string();
}

void export_values(const tensor& t, const std::optional<tensor>& mask, std::string_view name, arrow_schema* s,
                   arrow_array* a) {
  if (t.device().type != device_type::cpu)
    fail(error_kind::type, "cannot export a tensor on ", to_string(t.device()), " to Arrow: Arrow arrays live in CPU memory");
  const std::string format = primitive_format(t.dtype());
  if (t.ndim() == 1) return export_flat(t, mask, format, name, bf16_metadata(t.dtype()), s, a);
  if (t.ndim() != 2)
    fail(error_kind::type, "cannot export a ", t.ndim(), "-D tensor to Arrow: 1-D tensors become arrays and 2-D "
         "tensors fixed-size lists of their rows; reshape it first");
  const std::int64_t rows = t.shape()[0], width = t.shape()[1];
  const tensor c = t.is_contiguous() ? t : t.contiguous();
  std::optional<tensor> m;
  if (mask) m = mask->is_contiguous() ? *mask : mask->contiguous();
  const std::int64_t nulls = m ? count_false(*m) : 0;
  auto* sp = init_schema(s, "+w:" + std::to_string(width), name, arrow_flag_nullable);
  auto* p = init_array(a, rows, nulls);
  p->buffers.push_back(nulls ? pack_bits(*m, p) : nullptr);
  auto* cs = new arrow_schema{};
  auto* ca = new arrow_array{};
  sp->children.push_back(cs);
  p->children.push_back(ca);
  export_flat(c.reshape({rows * width}), std::nullopt, format, "item", bf16_metadata(t.dtype()), cs, ca);
  finish(s, sp);
  finish(a, p);
}

void export_strings(const std::vector<std::string>& strings, const std::optional<tensor>& mask, std::string_view name,
                    arrow_schema* s, arrow_array* a) {
  std::size_t total = 0;
  for (const std::string& x : strings) total += x.size();
  const bool large = total > 0x7fffffff;
  const auto n = static_cast<std::int64_t>(strings.size());
  const std::int64_t nulls = mask ? count_false(mask->contiguous()) : 0;
  auto* sp = init_schema(s, large ? "U" : "u", name, arrow_flag_nullable);
  finish(s, sp);
  auto* p = init_array(a, n, nulls);
  p->buffers.push_back(nulls ? pack_bits(mask->contiguous(), p) : nullptr);
  std::string offsets(static_cast<std::size_t>(n + 1) * (large ? 8 : 4), '\0');
  std::string data;
  data.reserve(total);
  std::int64_t at = 0;
  for (std::int64_t i = 0; i <= n; ++i) {
    if (large) std::memcpy(offsets.data() + 8 * i, &at, 8);
    else { auto v = static_cast<std::int32_t>(at); std::memcpy(offsets.data() + 4 * i, &v, 4); }
    if (i < n) {
      data += strings[static_cast<std::size_t>(i)];
      at += static_cast<std::int64_t>(strings[static_cast<std::size_t>(i)].size());
    }
  }
  p->bytes.push_back(std::move(offsets));
  p->bytes.push_back(std::move(data));
  p->buffers.push_back(p->bytes[p->bytes.size() - 2].data());
  p->buffers.push_back(p->bytes.back().data());
  finish(a, p);
}

std::string time_format(const std::string& time_type, const std::string& zone) {
  // "datetime64[us]" -> "tsu:<zone>", "timedelta64[ns]" -> "tDn".
  const auto open = time_type.find('[');
  const std::string unit = open == std::string::npos ? "" : time_type.substr(open + 1, time_type.size() - open - 2);
  char u = unit == "s" ? 's' : unit == "ms" ? 'm' : unit == "us" ? 'u' : unit == "ns" ? 'n' : '\0';
  if (!u) fail(error_kind::value, "cannot export time type \"", time_type, "\" to Arrow: the unit must be s, ms, us or ns");
  if (time_type.starts_with("datetime64")) return std::string("ts") + u + ":" + zone;
  return std::string("tD") + u;
}

void export_column(const arrow_column& c, arrow_schema* s, arrow_array* a) {
  switch (c.kind) {
    case arrow_column_kind::strings:
      return export_strings(c.strings, c.valid, c.name, s, a);
    case arrow_column_kind::dictionary: {
      const tensor codes = c.values.dtype() == dtype::int32 ? c.values : cast(c.values, dtype::int32);
      export_flat(codes, c.valid, "i", c.name, "", s, a);
      auto* sp = static_cast<schema_private*>(s->private_data);
      auto* p = static_cast<array_private*>(a->private_data);
      sp->dictionary = new arrow_schema{};
      p->dictionary = new arrow_array{};
      export_strings(c.strings, std::nullopt, "", sp->dictionary, p->dictionary);
      finish(s, sp);
      finish(a, p);
      return;
    }
    case arrow_column_kind::tensor:
      if (!c.time_type.empty()) {
        if (c.values.dtype() != dtype::int64 || c.values.ndim() != 1)
          fail(error_kind::type, "column \"", c.name, "\": a ", c.time_type, " column must hold 1-D int64 values");
        return export_flat(c.values, c.valid, time_format(c.time_type, c.timezone), c.name, "", s, a);
      }
      return export_values(c.values, c.valid, c.name, s, a);
  }
}

}  // namespace

void export_arrow(const tensor& t, arrow_schema* out_schema, arrow_array* out_array, std::string_view name) {
  arrow_schema s{};
  arrow_array a{};
  export_values(t, std::nullopt, name, &s, &a);
  *out_schema = s;
  *out_array = a;
}

void export_arrow_columns(std::span<const arrow_column> columns, arrow_schema* out_schema, arrow_array* out_array) {
  std::int64_t rows = columns.empty() ? 0 : columns[0].length();
  for (const arrow_column& c : columns)
    if (c.length() != rows)
      fail(error_kind::value, "column \"", c.name, "\" has ", c.length(), " rows but the first column has ", rows);
  arrow_schema s{};
  arrow_array a{};
  auto* sp = init_schema(&s, "+s", "", 0);
  auto* p = init_array(&a, rows, 0);
  p->buffers.push_back(nullptr);
  // Built child by child; if one throws, the finished ones are released with the parent.
  try {
    for (const arrow_column& c : columns) {
      auto* cs = new arrow_schema{};
      auto* ca = new arrow_array{};
      sp->children.push_back(cs);
      p->children.push_back(ca);
      export_column(c, cs, ca);
    }
  } catch (...) {
    finish(&s, sp);
    finish(&a, p);
    release_schema(&s);
    release_array(&a);
    throw;
  }
  finish(&s, sp);
  finish(&a, p);
  *out_schema = s;
  *out_array = a;
}

namespace {

struct stream_private {
  std::vector<arrow_column> columns;
  bool done = false;
  std::string error;
};

int stream_get_schema(arrow_array_stream* st, arrow_schema* out) {
  auto* p = static_cast<stream_private*>(st->private_data);
  try {
    arrow_array a{};
    export_arrow_columns(p->columns, out, &a);  // the schema of the batch; its data is dropped
    a.release(&a);
    return 0;
  } catch (const std::exception& e) {
    p->error = e.what();
    return 22;  // EINVAL
  }
}

int stream_get_next(arrow_array_stream* st, arrow_array* out) {
  auto* p = static_cast<stream_private*>(st->private_data);
  if (p->done) {
    *out = arrow_array{};
    return 0;
  }
  try {
    arrow_schema s{};
    export_arrow_columns(p->columns, &s, out);
    s.release(&s);
    p->done = true;
    return 0;
  } catch (const std::exception& e) {
    p->error = e.what();
    return 22;
  }
}

const char* stream_last_error(arrow_array_stream* st) {
  auto* p = static_cast<stream_private*>(st->private_data);
  return p->error.empty() ? nullptr : p->error.c_str();
}

void stream_release(arrow_array_stream* st) {
  delete static_cast<stream_private*>(st->private_data);
  st->release = nullptr;
}

}  // namespace

void export_arrow_stream(std::vector<arrow_column> columns, arrow_array_stream* out) {
  *out = arrow_array_stream{};
  out->get_schema = stream_get_schema;
  out->get_next = stream_get_next;
  out->get_last_error = stream_last_error;
  out->release = stream_release;
  out->private_data = new stream_private{std::move(columns), false, {}};
}

}  // namespace tb
