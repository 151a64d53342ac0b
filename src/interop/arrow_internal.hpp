#pragma once
// Arrow format strings parsed into what import, export and validation need.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tensorbridge/interop/arrow.hpp"

namespace tb::detail {

/// The families of Arrow types, as the C Data Interface's format strings name them.
enum class arrow_type_id {
  null, boolean, primitive, utf8, large_utf8, utf8_view, binary, large_binary, binary_view, fixed_binary,
  timestamp, duration, date32, date64, time32, time64, decimal, interval, list, large_list, fixed_list,
  list_view, large_list_view, struct_, map, dense_union, sparse_union, run_end,
};

/// One parsed format string.
struct arrow_type {
  arrow_type_id id = arrow_type_id::null;
  tb::dtype dtype = tb::dtype::uint8;  ///< element type of fixed-width types (int64 for timestamps...)
  std::string unit;                    ///< "s", "ms", "us", "ns" for times; empty otherwise
  std::string timezone;                ///< a timestamp's zone
  std::int64_t fixed_size = 0;         ///< N of "w:N" (bytes) and "+w:N" (items)
  std::string extension;               ///< the field's "ARROW:extension:name" metadata, if any
};

/// Parses `schema.format` (and the extension name in its metadata). Throws `tb::error` (format)
/// naming `column` for a format string the specification does not define.
arrow_type parse_arrow_type(const arrow_schema& schema, std::string_view column);

/// The human name of a format ("struct", "list", "float64", "timestamp[us]") for messages.
std::string arrow_type_name(const arrow_type& type, std::string_view format);

/// The value of `key` in Arrow's binary metadata encoding, or nothing.
std::optional<std::string> arrow_metadata_value(const char* metadata, std::string_view key);

/// The column path of a child for messages: "a", "a.b", "a[0]".
std::string child_path(std::string_view parent, const arrow_schema& child, std::int64_t index);

/// Bit `i` of an Arrow bitmap (least significant bit first).
inline bool arrow_bit(const void* bitmap, std::int64_t i) {
  return (static_cast<const std::uint8_t*>(bitmap)[i >> 3] >> (i & 7)) & 1;
}

}  // namespace tb::detail
