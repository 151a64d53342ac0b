// The .npy header: a Python dict literal, parsed by a small strict parser (never evaluated) that
// accepts exactly the literals NumPy writes: strings, integers, True/False, tuples, lists, dicts.

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "io/npy/npy_internal.hpp"

namespace tb::detail {
namespace {

constexpr char npy_magic[] = "\x93NUMPY";
constexpr std::size_t npy_magic_size = 6;
// Python literals nested deeper than this are not something NumPy writes; the bound keeps a
// hostile "((((..." header from exhausting the stack.
constexpr int max_literal_depth = 16;

// A parsed Python literal.
struct literal {
  enum class kind { string, integer, boolean, none, tuple, list, dict } type = kind::none;
  std::string text;                                  // string
  std::int64_t integer = 0;                          // integer
  bool boolean = false;                              // boolean
  std::vector<literal> items;                        // tuple, list, dict values
  std::vector<std::string> keys;                     // dict keys (strings only)
  std::size_t position = 0;                          // byte offset of the literal in the header
};

const char* kind_name(literal::kind k) {
  switch (k) {
    case literal::kind::string: return "a string";
    case literal::kind::integer: return "an integer";
    case literal::kind::boolean: return "a boolean";
    case literal::kind::none: return "None";
    case literal::kind::tuple: return "a tuple";
    case literal::kind::list: return "a list";
    case literal::kind::dict: return "a dict";
  }
  return "?";
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class literal_parser {
 public:
  literal_parser(std::string_view text, std::size_t base_offset, std::string_view where)
      : text_(text), base_(base_offset), where_(where) {}

  literal parse_document() {
    literal v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the header dict");
    return v;
  }

  [[noreturn]] void error(std::string_view what) const { error_at(pos_, what); }
  [[noreturn]] void error_at(std::size_t pos, std::string_view what) const {
    fail(error_kind::format, where_, ": malformed .npy header at byte offset ", base_ + pos, ": ", what,
         "; the file is not a valid .npy file (rewrite it with numpy.save)");
  }
  /// A valid header that asks for something tensorbridge does not read.
  [[noreturn]] void unsupported_at(std::size_t pos, std::string_view what) const {
    fail(error_kind::format, where_, ": .npy header at byte offset ", base_ + pos, ": ", what);
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  literal parse_value(int depth) {
    if (depth > max_literal_depth) error("literals nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) error("unexpected end of header");
    literal v;
    v.position = pos_;
    char c = text_[pos_];
    if (c == '\'' || c == '"') {
      v.type = literal::kind::string;
      v.text = parse_string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = literal::kind::integer;
      v.integer = parse_integer();
    } else if (c == '(' || c == '[') {
      v.type = c == '(' ? literal::kind::tuple : literal::kind::list;
      char close = c == '(' ? ')' : ']';
      ++pos_;
      while (!consume(close)) {
        v.items.push_back(parse_value(depth + 1));
        if (!consume(',')) {
          if (!consume(close)) error(detail::cat("expected ',' or '", close, "'"));
          break;
        }
      }
    } else if (c == '{') {
      v.type = literal::kind::dict;
      ++pos_;
      while (!consume('}')) {
        literal key = parse_value(depth + 1);
        if (key.type != literal::kind::string) error_at(key.position, "dict keys must be strings");
        if (std::find(v.keys.begin(), v.keys.end(), key.text) != v.keys.end())
          error_at(key.position, detail::cat("duplicate key '", key.text, "'"));
        if (!consume(':')) error("expected ':' after a dict key");
        v.keys.push_back(std::move(key.text));
        v.items.push_back(parse_value(depth + 1));
        if (!consume(',')) {
          if (!consume('}')) error("expected ',' or '}'");
          break;
        }
      }
    } else if (text_.substr(pos_, 4) == "True") {
      v.type = literal::kind::boolean;
      v.boolean = true;
      pos_ += 4;
    } else if (text_.substr(pos_, 5) == "False") {
      v.type = literal::kind::boolean;
      pos_ += 5;
    } else if (text_.substr(pos_, 4) == "None") {
      pos_ += 4;
    } else {
      error(detail::cat("unexpected character '", c, "'"));
    }
    return v;
  }

  std::int64_t parse_integer() {
    bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    std::size_t start = pos_;
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      std::uint64_t digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10)
        error_at(start, "integer too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) error("expected digits");
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2's long
    return negative ? -static_cast<std::int64_t>(value) : static_cast<std::int64_t>(value);
  }

  std::uint32_t parse_hex(int digits) {
    std::uint32_t v = 0;
    for (int i = 0; i < digits; ++i, ++pos_) {
      if (pos_ >= text_.size()) error("unterminated escape");
      char h = text_[pos_];
      int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (d < 0) error("bad hexadecimal escape");
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return v;
  }

  std::string parse_string() {
    std::size_t start = pos_;
    char quote = text_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) error_at(start, "unterminated string");
      char c = text_[pos_++];
      if (c == quote) return out;
      if (c == '\n') error_at(start, "unterminated string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) error_at(start, "unterminated string");
      char e = text_[pos_++];
      switch (e) {
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case '0': out += '\0'; break;
        case 'x': append_utf8(out, parse_hex(2)); break;
        case 'u': append_utf8(out, parse_hex(4)); break;
        case 'U': {
          std::uint32_t cp = parse_hex(8);
          if (cp > 0x10FFFF) error("escape beyond Unicode");
          append_utf8(out, cp);
          break;
        }
        default: error(detail::cat("unsupported escape '\\", e, "'"));
      }
    }
  }

  std::string_view text_;
  std::size_t base_;
  std::string_view where_;
  std::size_t pos_ = 0;
};

// Latin-1 (format versions 1 and 2) to UTF-8, so names read the same whatever the version.
std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) append_utf8(out, c);
  return out;
}

std::uint32_t read_le(std::span<const std::byte> b, std::size_t at, std::size_t n) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint32_t>(b[at + i]) << (8 * i);
  return v;
}

// What one descr type string ("<f4") means.
struct simple_type {
  tb::dtype dtype;
  bool byteswapped;
};

simple_type parse_type_string(std::string_view s, const literal_parser& p, std::size_t pos,
                              const npy_load_options& options) {
  std::string_view body = s;
  char order = '|';
  if (!body.empty() && (body[0] == '<' || body[0] == '>' || body[0] == '|' || body[0] == '=')) {
    order = body[0];
    body.remove_prefix(1);
  }
  if (body == "O" || body.rfind("O", 0) == 0)
    p.unsupported_at(pos, detail::cat("descr '", s, "' is an object array (pickled Python objects); tensorbridge never "
                                "unpickles: save numeric arrays instead"));
  struct entry {
    std::string_view code;
    tb::dtype dtype;
  };
  static constexpr entry table[] = {
      {"b1", dtype::bool_},    {"?", dtype::bool_},      {"i1", dtype::int8},       {"i2", dtype::int16},
      {"i4", dtype::int32},    {"i8", dtype::int64},     {"u1", dtype::uint8},      {"u2", dtype::uint16},
      {"u4", dtype::uint32},   {"u8", dtype::uint64},    {"f2", dtype::float16},    {"f4", dtype::float32},
      {"f8", dtype::float64},  {"c8", dtype::complex64}, {"c16", dtype::complex128},
  };
  std::optional<tb::dtype> found;
  for (const auto& e : table)
    if (body == e.code) found = e.dtype;
  if (!found && body == "V2") {
    if (!options.void2_as_bfloat16)
      p.unsupported_at(pos, detail::cat("descr '", s, "' is a 2-byte raw (void) type; np.save writes ml_dtypes.bfloat16 "
                                  "this way: pass void2_as_bfloat16=True to read it as bfloat16"));
    found = dtype::bfloat16;
  }
  if (!found)
    p.unsupported_at(pos, detail::cat("unsupported descr '", s, "'; tensorbridge reads bool, int8-64, uint8-64, float16, "
                                "float32, float64, complex64, complex128 (and '<V2' as bfloat16)"));
  bool little_host = std::endian::native == std::endian::little;
  bool swapped = itemsize(*found) > 1 && ((order == '>' && little_host) || (order == '<' && !little_host));
  return {*found, swapped};
}

std::int64_t checked_product(const shape_t& dims, std::int64_t factor, const literal_parser& p, std::size_t pos) {
  // Strides are products of the dimensions with zeros counted as one, so they must fit too: an
  // empty (0, 2**61) array has no bytes but a stride that overflows. A zero factor (a record of
  // zero-sized fields) still has strides in elements, so it counts as one as well.
  std::int64_t n = factor, strides = std::max<std::int64_t>(factor, 1);
  for (auto d : dims) {
    const std::int64_t k = std::max<std::int64_t>(d, 1);
    if (strides > std::numeric_limits<std::int64_t>::max() / k) p.error_at(pos, "the shape's size overflows");
    strides *= k;
    n *= d;
  }
  return n;
}

shape_t parse_shape(const literal& v, const literal_parser& p, std::string_view what) {
  if (v.type != literal::kind::tuple)
    p.error_at(v.position, detail::cat(what, " must be a tuple of integers, found ", kind_name(v.type)));
  if (v.items.size() > 64) p.error_at(v.position, detail::cat(what, " has more than 64 dimensions"));
  shape_t shape;
  for (const auto& d : v.items) {
    if (d.type != literal::kind::integer || d.integer < 0)
      p.error_at(d.position, detail::cat(what, " must hold non-negative integers"));
    shape.push_back(d.integer);
  }
  return shape;
}

// A structured descr: [('name', '<i8'), ('name', '<f4', (3,)), ('', '|V4'), ...].
void parse_fields(const literal& v, npy_header& h, const literal_parser& p, const npy_load_options& options) {
  std::size_t offset = 0;
  for (const auto& f : v.items) {
    if (f.type != literal::kind::tuple || f.items.size() < 2 || f.items.size() > 3)
      p.error_at(f.position, "a structured descr field must be a tuple (name, type) or (name, type, shape)");
    const literal& name = f.items[0];
    const literal& type = f.items[1];
    if (name.type != literal::kind::string)
      p.unsupported_at(name.position, "field names must be strings (titled fields are not supported)");
    if (type.type != literal::kind::string)
      p.unsupported_at(type.position, detail::cat("field '", name.text, "' has a nested structured type, which is not "
                                            "supported; flatten the record type"));
    std::string_view code = type.text;
    std::string_view body = code.empty() || std::string_view("<>|=").find(code[0]) == std::string_view::npos
                                ? code
                                : code.substr(1);
    if (name.text.empty() && !body.empty() && body[0] == 'V') {
      // Padding NumPy writes for aligned or offset fields: skip its bytes.
      std::int64_t pad = 0;
      for (char c : body.substr(1)) {
        if (c < '0' || c > '9' || pad > (1 << 24)) p.error_at(type.position, "bad padding size");
        pad = pad * 10 + (c - '0');
      }
      offset += static_cast<std::size_t>(pad);
      continue;
    }
    if (name.text.empty()) p.error_at(name.position, "empty field name");
    for (const auto& other : h.fields)
      if (other.name == name.text) p.error_at(name.position, detail::cat("duplicate field name '", name.text, "'"));
    simple_type t = parse_type_string(code, p, type.position, options);
    record_field field{name.text, t.dtype, offset, {}, t.byteswapped};
    if (f.items.size() == 3) field.subshape = parse_shape(f.items[2], p, "a field shape");
    std::int64_t count = checked_product(field.subshape, static_cast<std::int64_t>(itemsize(t.dtype)), p, f.position) /
                         static_cast<std::int64_t>(itemsize(t.dtype));
    if (count > (std::int64_t{1} << 32)) p.error_at(f.position, "field too large");
    offset += static_cast<std::size_t>(count) * itemsize(t.dtype);
    h.fields.push_back(std::move(field));
  }
  if (h.fields.empty()) p.error_at(v.position, "a structured descr needs at least one named field");
  h.record_size = offset;
}

}  // namespace

std::size_t npy_header_size(std::span<const std::byte> first, std::uint64_t region_size, std::string_view where,
                            const npy_load_options& options) {
  if (first.size() < 10 || std::memcmp(first.data(), npy_magic, npy_magic_size) != 0)
    fail(error_kind::format, where, ": not a .npy file (byte offset 0: the magic string \\x93NUMPY is missing",
         first.size() < 10 ? ", the file is shorter than 10 bytes" : "", ")");
  int major = static_cast<int>(first[6]);
  int minor = static_cast<int>(first[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(error_kind::format, where, ": unsupported .npy format version ", major, ".", minor,
         " at byte offset 6; tensorbridge reads versions 1.0, 2.0 and 3.0");
  std::size_t prefix = major == 1 ? 10 : 12;
  if (first.size() < prefix)
    fail(error_kind::format, where, ": truncated .npy header: the file ends at byte offset ", first.size(),
         " inside the header length field");
  std::uint64_t length = read_le(first, 8, prefix - 8);
  if (length > options.max_header_size)
    fail(error_kind::format, where, ": the .npy header length at byte offset 8 says ", length,
         " bytes, more than max_header_size=", options.max_header_size,
         "; pass a larger max_header_size if the file is trusted");
  if (prefix + length > region_size)
    fail(error_kind::format, where, ": the .npy header length at byte offset 8 says ", length, " bytes, but only ",
         region_size - std::min<std::uint64_t>(region_size, prefix), " bytes follow; the file is truncated");
  return prefix + static_cast<std::size_t>(length);
}

npy_header parse_npy_header(std::span<const std::byte> bytes, std::uint64_t region_size, std::string_view where,
                            const npy_load_options& options) {
  std::size_t total = npy_header_size(bytes, region_size, where, options);
  npy_header h;
  h.major_version = static_cast<int>(bytes[6]);
  h.minor_version = 0;
  std::size_t prefix = h.major_version == 1 ? 10 : 12;
  std::string_view raw(reinterpret_cast<const char*>(bytes.data()) + prefix, total - prefix);
  std::string text = h.major_version == 3 ? std::string(raw) : latin1_to_utf8(raw);
  // Offsets in messages point into the file; for Latin-1 headers with non-ASCII names they may
  // drift by the UTF-8 expansion, which is acceptable for a diagnostic.
  literal_parser p(text, prefix, where);
  literal dict = p.parse_document();
  if (dict.type != literal::kind::dict) p.error_at(dict.position, "the header must be a dict");
  const literal* descr = nullptr;
  const literal* fortran = nullptr;
  const literal* shape = nullptr;
  for (std::size_t i = 0; i < dict.keys.size(); ++i) {
    if (dict.keys[i] == "descr") descr = &dict.items[i];
    else if (dict.keys[i] == "fortran_order") fortran = &dict.items[i];
    else if (dict.keys[i] == "shape") shape = &dict.items[i];
    else p.error_at(dict.items[i].position, detail::cat("unexpected key '", dict.keys[i], "'"));
  }
  if (!descr || !fortran || !shape)
    p.error_at(0, "the header must hold exactly the keys 'descr', 'fortran_order' and 'shape'");
  if (fortran->type != literal::kind::boolean)
    p.error_at(fortran->position, "'fortran_order' must be True or False");
  h.fortran_order = fortran->boolean;
  h.shape = parse_shape(*shape, p, "'shape'");
  if (descr->type == literal::kind::string) {
    simple_type t = parse_type_string(descr->text, p, descr->position, options);
    h.descr = descr->text;
    h.dtype = t.dtype;
    h.byteswapped = t.byteswapped;
    h.record_size = itemsize(t.dtype);
  } else if (descr->type == literal::kind::list) {
    parse_fields(*descr, h, p, options);
    h.descr = "[";
    for (const auto& f : h.fields)
      h.descr += detail::cat(h.descr.size() > 1 ? ", " : "", "('", f.name, "', '", npy_descr(f.dtype), "')");
    h.descr += "]";
    h.dtype = dtype::uint8;
  } else {
    p.error_at(descr->position, "'descr' must be a type string or a list of fields");
  }
  if (h.is_structured() && h.fortran_order)
    p.unsupported_at(fortran->position, "Fortran-ordered structured arrays are not supported");
  std::int64_t nbytes = checked_product(h.shape, static_cast<std::int64_t>(h.record_size), p, shape->position);
  // A field's column has the array's shape followed by the field's: that shape must fit too,
  // even when a zero dimension leaves no bytes.
  for (const auto& f : h.fields) {
    shape_t column = h.shape;
    column.insert(column.end(), f.subshape.begin(), f.subshape.end());
    checked_product(column, static_cast<std::int64_t>(itemsize(f.dtype)), p, shape->position);
  }
  h.data_offset = total;
  h.data_nbytes = static_cast<std::uint64_t>(nbytes);
  if (h.data_nbytes > region_size - total)
    fail(error_kind::format, where, ": the header promises shape ", format_tuple(h.shape), " of ", h.descr, " = ",
         h.data_nbytes, " bytes of data from byte offset ", total, ", but the file holds only ", region_size - total,
         " bytes there; the file is truncated or its header is wrong");
  return h;
}

std::string npy_descr(dtype t) {
  switch (t) {
    case dtype::bool_: return "|b1";
    case dtype::int8: return "|i1";
    case dtype::uint8: return "|u1";
    case dtype::bfloat16: return "<V2";
    default: break;
  }
  const char* kind = is_complex(t) ? "c" : is_floating(t) ? "f" : info(t).kind == dtype_kind::signed_int ? "i" : "u";
  char order = std::endian::native == std::endian::little ? '<' : '>';
  return detail::cat(order, kind, itemsize(t));
}

std::string format_npy_header(std::string_view descr, bool fortran_order, const shape_t& shape, int version) {
  // Byte for byte what numpy.lib.format._write_array_header writes: sorted keys, a trailing ", ",
  // room to grow the first (C) or last (Fortran) dimension in place, padding to 64 bytes, '\n'.
  std::string dict = detail::cat("{'descr': '", descr, "', 'fortran_order': ", fortran_order ? "True" : "False",
                                 ", 'shape': ", format_tuple(shape), ", }");
  constexpr std::size_t growth_axis_max_digits = 21;
  if (!shape.empty()) {
    std::size_t digits = std::to_string(shape[fortran_order ? shape.size() - 1 : 0]).size();
    dict.append(growth_axis_max_digits - std::min(digits, growth_axis_max_digits), ' ');
  }
  constexpr std::size_t align = 64;
  auto length_for = [&](int v) {
    std::size_t prefix = v == 1 ? 10 : 12;
    std::size_t hlen = dict.size() + 1;
    return hlen + align - (prefix + hlen) % align;
  };
  auto wrap = [&](int v) {
    std::size_t prefix = v == 1 ? 10 : 12;
    std::size_t length = length_for(v);
    std::size_t pad = length - dict.size() - 1;
    std::string out(npy_magic, npy_magic_size);
    out += static_cast<char>(v);
    out += '\0';
    for (std::size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>((length >> (8 * i)) & 0xFF);
    out += dict;
    out.append(pad, ' ');
    out += '\n';
    return out;
  };
  if (version == 0) version = length_for(1) <= 65535 ? 1 : 2;
  if (version == 1 && length_for(1) > 65535)
    fail(error_kind::value, "save_npy: the header (", dict.size(), " bytes) is too long for format version 1.0");
  return wrap(version);
}

}  // namespace tb::detail
