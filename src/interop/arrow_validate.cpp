// Format strings and the structural checks of the Arrow C Data Interface (the specification's
// "Format strings" and "Buffers" tables).

#include <cstddef>
#include <cstring>

#include "interop/arrow_internal.hpp"

namespace tb {

// The structs must match the C Data Interface byte for byte (64-bit platforms).
static_assert(sizeof(arrow_schema) == 72 && offsetof(arrow_schema, flags) == 24 &&
              offsetof(arrow_schema, n_children) == 32 && offsetof(arrow_schema, children) == 40 &&
              offsetof(arrow_schema, dictionary) == 48 && offsetof(arrow_schema, release) == 56 &&
              offsetof(arrow_schema, private_data) == 64);
static_assert(sizeof(arrow_array) == 80 && offsetof(arrow_array, n_buffers) == 24 &&
              offsetof(arrow_array, buffers) == 40 && offsetof(arrow_array, children) == 48 &&
              offsetof(arrow_array, dictionary) == 56 && offsetof(arrow_array, release) == 64 &&
              offsetof(arrow_array, private_data) == 72);
static_assert(sizeof(arrow_array_stream) == 40 && offsetof(arrow_array_stream, get_next) == 8 &&
              offsetof(arrow_array_stream, get_last_error) == 16 && offsetof(arrow_array_stream, release) == 24 &&
              offsetof(arrow_array_stream, private_data) == 32);

namespace detail {
namespace {

std::string shown(std::string_view column) { return column.empty() ? std::string("the array") : "column \"" + std::string(column) + "\""; }

std::optional<std::string> time_unit(char c) {
  switch (c) {
    case 's': return "s";
    case 'm': return "ms";
    case 'u': return "us";
    case 'n': return "ns";
  }
  return std::nullopt;
}

// "+w:12" -> 12; anything but 0..2^31-1 fails.
std::int64_t parse_size(std::string_view digits, std::string_view format, std::string_view column) {
  bool ok = !digits.empty() && digits.size() <= 10;
  std::int64_t n = 0;
  for (char c : digits) {
    ok = ok && c >= '0' && c <= '9';
    if (ok) n = n * 10 + (c - '0');
  }
  if (!ok || n > 0x7fffffff)
    fail(error_kind::format, shown(column), ": malformed Arrow format string \"", format,
         "\": expected a size from 0 to 2147483647 after the colon");
  return n;
}

}  // namespace

std::optional<std::string> arrow_metadata_value(const char* metadata, std::string_view key) {
  if (!metadata) return std::nullopt;
  // The encoding has no total length; keys and values are trusted to be as long as declared.
  auto read32 = [](const char*& p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    p += 4;
    return v;
  };
  const char* p = metadata;
  const std::int32_t pairs = read32(p);
  for (std::int32_t i = 0; i < pairs && i < 4096; ++i) {
    const std::int32_t klen = read32(p);
    if (klen < 0) return std::nullopt;
    std::string_view k(p, static_cast<std::size_t>(klen));
    p += klen;
    const std::int32_t vlen = read32(p);
    if (vlen < 0) return std::nullopt;
    std::string_view v(p, static_cast<std::size_t>(vlen));
    p += vlen;
    if (k == key) return std::string(v);
  }
  return std::nullopt;
}

std::string child_path(std::string_view parent, const arrow_schema& child, std::int64_t index) {
  std::string leaf = child.name && *child.name ? std::string(child.name) : "[" + std::to_string(index) + "]";
  if (parent.empty()) return leaf;
  return std::string(parent) + (leaf[0] == '[' ? "" : ".") + leaf;
}

arrow_type parse_arrow_type(const arrow_schema& schema, std::string_view column) {
  if (!schema.format)
    fail(error_kind::format, shown(column), ": the Arrow schema has no format string (format is null)");
  const std::string_view f(schema.format);
  arrow_type t;
  auto bad = [&]() -> arrow_type {
    fail(error_kind::format, shown(column), ": unknown Arrow format string \"", f,
         "\"; the C Data Interface specification lists the valid ones");
  };
  auto prim = [&](dtype d) {
    t.id = arrow_type_id::primitive;
    t.dtype = d;
    return t;
  };
  if (auto ext = arrow_metadata_value(schema.metadata, "ARROW:extension:name")) t.extension = *ext;
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': t.id = arrow_type_id::null; return t;
      case 'b': t.id = arrow_type_id::boolean; t.dtype = dtype::bool_; return t;
      case 'c': return prim(dtype::int8);
      case 'C': return prim(dtype::uint8);
      case 's': return prim(dtype::int16);
      case 'S': return prim(t.extension == "tensorbridge.bfloat16" ? dtype::bfloat16 : dtype::uint16);
      case 'i': return prim(dtype::int32);
      case 'I': return prim(dtype::uint32);
      case 'l': return prim(dtype::int64);
      case 'L': return prim(dtype::uint64);
      case 'e': return prim(dtype::float16);
      case 'f': return prim(dtype::float32);
      case 'g': return prim(dtype::float64);
      case 'z': t.id = arrow_type_id::binary; return t;
      case 'Z': t.id = arrow_type_id::large_binary; return t;
      case 'u': t.id = arrow_type_id::utf8; return t;
      case 'U': t.id = arrow_type_id::large_utf8; return t;
    }
    return bad();
  }
  if (f == "vz") { t.id = arrow_type_id::binary_view; return t; }
  if (f == "vu") { t.id = arrow_type_id::utf8_view; return t; }
  if (f.starts_with("w:")) {
    t.id = arrow_type_id::fixed_binary;
    t.fixed_size = parse_size(f.substr(2), f, column);
    return t;
  }
  if (f.starts_with("d:")) { t.id = arrow_type_id::decimal; return t; }
  if (f == "tdD") { t.id = arrow_type_id::date32; t.dtype = dtype::int32; t.unit = "D"; return t; }
  if (f == "tdm") { t.id = arrow_type_id::date64; t.dtype = dtype::int64; t.unit = "ms"; return t; }
  if (f.size() == 3 && f.starts_with("tt")) {
    auto unit = time_unit(f[2]);
    if (!unit) return bad();
    t.id = (f[2] == 's' || f[2] == 'm') ? arrow_type_id::time32 : arrow_type_id::time64;
    t.dtype = t.id == arrow_type_id::time32 ? dtype::int32 : dtype::int64;
    t.unit = *unit;
    return t;
  }
  if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {
    auto unit = time_unit(f[2]);
    if (!unit) return bad();
    t.id = arrow_type_id::timestamp;
    t.dtype = dtype::int64;
    t.unit = *unit;
    t.timezone = std::string(f.substr(4));
    return t;
  }
  if (f.size() == 3 && f.starts_with("tD")) {
    auto unit = time_unit(f[2]);
    if (!unit) return bad();
    t.id = arrow_type_id::duration;
    t.dtype = dtype::int64;
    t.unit = *unit;
    return t;
  }
  if (f == "tiM" || f == "tiD" || f == "tin") { t.id = arrow_type_id::interval; return t; }
  if (f == "+l") { t.id = arrow_type_id::list; return t; }
  if (f == "+L") { t.id = arrow_type_id::large_list; return t; }
  if (f == "+vl") { t.id = arrow_type_id::list_view; return t; }
  if (f == "+vL") { t.id = arrow_type_id::large_list_view; return t; }
  if (f.starts_with("+w:")) {
    t.id = arrow_type_id::fixed_list;
    t.fixed_size = parse_size(f.substr(3), f, column);
    return t;
  }
  if (f == "+s") { t.id = arrow_type_id::struct_; return t; }
  if (f == "+m") { t.id = arrow_type_id::map; return t; }
  if (f.starts_with("+ud:")) { t.id = arrow_type_id::dense_union; return t; }
  if (f.starts_with("+us:")) { t.id = arrow_type_id::sparse_union; return t; }
  if (f == "+r") { t.id = arrow_type_id::run_end; return t; }
  return bad();
}

std::string arrow_type_name(const arrow_type& type, std::string_view format) {
  switch (type.id) {
    case arrow_type_id::null: return "null";
    case arrow_type_id::boolean: return "bool";
    case arrow_type_id::primitive: return std::string(name(type.dtype));
    case arrow_type_id::utf8: return "string";
    case arrow_type_id::large_utf8: return "large_string";
    case arrow_type_id::utf8_view: return "string_view";
    case arrow_type_id::binary: return "binary";
    case arrow_type_id::large_binary: return "large_binary";
    case arrow_type_id::binary_view: return "binary_view";
    case arrow_type_id::fixed_binary: return "fixed_size_binary";
    case arrow_type_id::timestamp: return "timestamp[" + type.unit + "]";
    case arrow_type_id::duration: return "duration[" + type.unit + "]";
    case arrow_type_id::date32: return "date32";
    case arrow_type_id::date64: return "date64";
    case arrow_type_id::time32: return "time32[" + type.unit + "]";
    case arrow_type_id::time64: return "time64[" + type.unit + "]";
    case arrow_type_id::decimal: return "decimal";
    case arrow_type_id::interval: return "interval";
    case arrow_type_id::list: return "list";
    case arrow_type_id::large_list: return "large_list";
    case arrow_type_id::fixed_list: return "fixed_size_list";
    case arrow_type_id::list_view: return "list_view";
    case arrow_type_id::large_list_view: return "large_list_view";
    case arrow_type_id::struct_: return "struct";
    case arrow_type_id::map: return "map";
    case arrow_type_id::dense_union: return "dense union";
    case arrow_type_id::sparse_union: return "sparse union";
    case arrow_type_id::run_end: return "run_end_encoded";
  }
  return std::string(format);
}

namespace {

constexpr std::int64_t max_children = 1 << 20;

// Buffers (fixed count; -1 for view types, whose count varies) and children (-1: any) of a type.
std::pair<std::int64_t, std::int64_t> layout(const arrow_type& t) {
  using id = arrow_type_id;
  switch (t.id) {
    case id::null: return {0, 0};
    case id::utf8: case id::large_utf8: case id::binary: case id::large_binary: return {3, 0};
    case id::utf8_view: case id::binary_view: return {-1, 0};
    case id::list: case id::large_list: case id::map: return {2, 1};
    case id::list_view: case id::large_list_view: return {3, 1};
    case id::fixed_list: return {1, 1};
    case id::struct_: return {1, -1};
    case id::sparse_union: return {1, -1};
    case id::dense_union: return {2, -1};
    case id::run_end: return {0, 2};
    default: return {2, 0};
  }
}

void check_offsets(const void* buffer, bool large, std::int64_t first, std::int64_t count, const std::string& col) {
  std::int64_t prev = 0;
  for (std::int64_t i = 0; i <= count; ++i) {
    const std::int64_t v = large ? static_cast<const std::int64_t*>(buffer)[first + i]
                                 : static_cast<const std::int32_t*>(buffer)[first + i];
    if (v < 0 || (i > 0 && v < prev))
      fail(error_kind::format, shown(col), ": Arrow offset ", first + i, " is ", v,
           i > 0 ? detail::cat(", below the previous offset ", prev) : std::string(", negative"),
           "; offsets must be non-negative and non-decreasing");
    prev = v;
  }
}

void validate(const arrow_schema& schema, const arrow_array& array, const std::string& col, int depth) {
  if (depth > 64) fail(error_kind::format, shown(col), ": Arrow type nested more than 64 levels deep");
  if (!schema.release) fail(error_kind::format, shown(col), ": the Arrow schema was already released (release is null)");
  if (!array.release) fail(error_kind::format, shown(col), ": the Arrow array was already released (release is null)");
  const arrow_type t = parse_arrow_type(schema, col);
  // The type's name only for messages: built when one is written, not on the O(1) import path.
  auto type = [&] { return arrow_type_name(t, schema.format); };
  if (array.length < 0) fail(error_kind::format, shown(col), ": negative Arrow array length ", array.length);
  if (array.offset < 0) fail(error_kind::format, shown(col), ": negative Arrow array offset ", array.offset);
  if (array.length > (std::int64_t{1} << 48) || array.offset > (std::int64_t{1} << 48))
    fail(error_kind::format, shown(col), ": Arrow length ", array.length, " + offset ", array.offset,
         " is larger than any buffer can be");
  if (array.null_count < -1 || array.null_count > array.length)
    fail(error_kind::format, shown(col), ": Arrow null_count ", array.null_count, " is outside [-1, length ",
         array.length, "]");
  if (schema.n_children < 0 || schema.n_children > max_children || (schema.n_children > 0 && !schema.children))
    fail(error_kind::format, shown(col), ": the Arrow schema declares ", schema.n_children, " children",
         schema.n_children > 0 ? " but its children pointer is null" : "");
  if (array.n_children != schema.n_children)
    fail(error_kind::format, shown(col), ": the Arrow array has ", array.n_children, " children but its ", type(),
         " schema has ", schema.n_children);
  if (array.n_children > 0 && !array.children)
    fail(error_kind::format, shown(col), ": the Arrow array declares ", array.n_children, " children but its children pointer is null");
  auto [n_buffers, n_children] = layout(t);
  if (n_children >= 0 && schema.n_children != n_children)
    fail(error_kind::format, shown(col), ": an Arrow ", type(), " has ", n_children, " child", n_children == 1 ? "" : "ren",
         ", the schema declares ", schema.n_children);
  if (n_buffers < 0) {
    if (array.n_buffers < 3)
      fail(error_kind::format, shown(col), ": an Arrow ", type(), " array needs at least 3 buffers, got ", array.n_buffers);
  } else if (array.n_buffers != n_buffers) {
    fail(error_kind::format, shown(col), ": an Arrow ", type(), " array has ", n_buffers, " buffer",
         n_buffers == 1 ? "" : "s", ", got ", array.n_buffers);
  }
  if (array.n_buffers > 0 && !array.buffers)
    fail(error_kind::format, shown(col), ": the Arrow array declares ", array.n_buffers, " buffers but its buffers pointer is null");
  const std::int64_t end = array.offset + array.length;
  const bool has_validity = t.id != arrow_type_id::null && t.id != arrow_type_id::run_end &&
                            t.id != arrow_type_id::sparse_union && t.id != arrow_type_id::dense_union;
  if (has_validity && array.null_count != 0 && array.null_count != -1 && end > 0 && !array.buffers[0])
    fail(error_kind::format, shown(col), ": the Arrow array has ", array.null_count,
         " nulls but no validity bitmap (buffer 0 is null)");
  // Every other buffer is required, except in an empty array, where producers may leave them null.
  for (std::int64_t b = has_validity ? 1 : 0; b < array.n_buffers && end > 0; ++b)
    if (!array.buffers[b])
      fail(error_kind::format, shown(col), ": buffer ", b, " of the Arrow ", type(),
           " array is null but the array has ", array.length, " elements (offset ", array.offset, ")");
  if (t.id == arrow_type_id::utf8 || t.id == arrow_type_id::binary || t.id == arrow_type_id::large_utf8 ||
      t.id == arrow_type_id::large_binary) {
    if (end > 0)
      check_offsets(array.buffers[1], t.id == arrow_type_id::large_utf8 || t.id == arrow_type_id::large_binary,
                    array.offset, array.length, col);
  }
  if (t.id == arrow_type_id::utf8_view || t.id == arrow_type_id::binary_view) {
    if (end > 0) {
      const auto variadic = array.n_buffers - 3;
      const auto* sizes = static_cast<const std::int64_t*>(array.buffers[array.n_buffers - 1]);
      for (std::int64_t b = 0; b < variadic; ++b)
        if (sizes[b] < 0) fail(error_kind::format, shown(col), ": negative size of Arrow data buffer ", b + 2);
      const auto* views = static_cast<const std::uint8_t*>(array.buffers[1]);
      for (std::int64_t i = array.offset; i < end; ++i) {
        std::int32_t len, index, off;
        std::memcpy(&len, views + 16 * i, 4);
        if (len < 0) fail(error_kind::format, shown(col), ": element ", i - array.offset, " has negative length ", len);
        if (len <= 12) continue;
        std::memcpy(&index, views + 16 * i + 8, 4);
        std::memcpy(&off, views + 16 * i + 12, 4);
        if (index < 0 || index >= variadic || off < 0 || std::int64_t{off} + len > sizes[index])
          fail(error_kind::format, shown(col), ": element ", i - array.offset, " points at bytes [", off, ", ",
               std::int64_t{off} + len, ") of data buffer ", index, ", outside its ",
               (index >= 0 && index < variadic) ? sizes[index] : 0, " bytes");
      }
    }
  }
  // Dictionary: both or neither, integer indices.
  if ((schema.dictionary == nullptr) != (array.dictionary == nullptr))
    fail(error_kind::format, shown(col), schema.dictionary ? ": the Arrow schema is dictionary-encoded but the array has no dictionary"
                                                         : ": the Arrow array has a dictionary but its schema is not dictionary-encoded");
  if (schema.dictionary) {
    if (t.id != arrow_type_id::primitive || !is_integer(t.dtype))
      fail(error_kind::format, shown(col), ": dictionary indices must be integers, got Arrow ", type());
    validate(*schema.dictionary, *array.dictionary, col, depth + 1);
  }
  for (std::int64_t i = 0; i < schema.n_children; ++i) {
    if (!schema.children[i] || !array.children[i])
      fail(error_kind::format, shown(col), ": child ", i, " of the Arrow ", type(), " is a null pointer");
    const std::string child = child_path(col, *schema.children[i], i);
    validate(*schema.children[i], *array.children[i], child, depth + 1);
    const std::int64_t need = t.id == arrow_type_id::fixed_list ? end * t.fixed_size
                              : (t.id == arrow_type_id::struct_ || t.id == arrow_type_id::sparse_union) ? end
                                                                                                         : 0;
    if (array.children[i]->length < need)
      fail(error_kind::format, shown(child), ": the child has ", array.children[i]->length,
           " elements but its ", type(), " parent needs ", need);
  }
}

}  // namespace
}  // namespace detail

void validate_arrow(const arrow_schema& schema, const arrow_array& array, std::string_view column) {
  detail::validate(schema, array, std::string(column), 0);
}

}  // namespace tb
