#include "tensorbridge/core/dtype.hpp"

#include <array>
#include <string>

#include "tensorbridge/core/error.hpp"

namespace tb {
namespace {

using k = dtype_kind;
using c = dl_code;

// The one dtype table; every other dtype fact is derived from it.
constexpr std::array<dtype_info, dtype_count> table{{
    {dtype::bool_, "bool", k::boolean, 1, c::bool_, 1, 0},
    {dtype::int8, "int8", k::signed_int, 1, c::int_, 7, 0},
    {dtype::int16, "int16", k::signed_int, 2, c::int_, 15, 0},
    {dtype::int32, "int32", k::signed_int, 4, c::int_, 31, 0},
    {dtype::int64, "int64", k::signed_int, 8, c::int_, 63, 0},
    {dtype::uint8, "uint8", k::unsigned_int, 1, c::uint, 8, 0},
    {dtype::uint16, "uint16", k::unsigned_int, 2, c::uint, 16, 0},
    {dtype::uint32, "uint32", k::unsigned_int, 4, c::uint, 32, 0},
    {dtype::uint64, "uint64", k::unsigned_int, 8, c::uint, 64, 0},
    {dtype::float16, "float16", k::floating, 2, c::float_, 11, 16},
    {dtype::bfloat16, "bfloat16", k::floating, 2, c::bfloat, 8, 128},
    {dtype::float32, "float32", k::floating, 4, c::float_, 24, 128},
    {dtype::float64, "float64", k::floating, 8, c::float_, 53, 1024},
    {dtype::complex64, "complex64", k::complex, 8, c::complex, 24, 128},
    {dtype::complex128, "complex128", k::complex, 16, c::complex, 53, 1024},
}};

constexpr bool table_in_enum_order() {
  for (int i = 0; i < dtype_count; ++i)
    if (static_cast<int>(table[i].dtype) != i) return false;
  return true;
}
static_assert(table_in_enum_order(), "the dtype table must list dtypes in enum order");

struct alias {
  std::string_view name;
  dtype type;
};
constexpr std::array<alias, 8> aliases{{
    {"float", dtype::float32},
    {"double", dtype::float64},
    {"half", dtype::float16},
    {"bf16", dtype::bfloat16},
    {"int", dtype::int64},
    {"long", dtype::int64},
    {"bool_", dtype::bool_},
    {"cfloat", dtype::complex64},
}};

}  // namespace

const dtype_info& info(dtype t) noexcept { return table[static_cast<std::size_t>(t)]; }

std::span<const dtype_info> all_dtypes() noexcept { return table; }

dtype dtype_from_name(std::string_view name) {
  for (const auto& row : table)
    if (row.name == name) return row.dtype;
  for (const auto& a : aliases)
    if (a.name == name) return a.type;
  std::string valid;
  for (const auto& row : table) valid += (valid.empty() ? "" : ", ") + std::string(row.name);
  fail(error_kind::type, "unknown dtype \"", name, "\"; expected one of: ", valid);
}

std::optional<dtype> dtype_from_dlpack(std::uint8_t code, std::uint8_t bits, std::uint16_t lanes) noexcept {
  if (lanes != 1) return std::nullopt;
  for (const auto& row : table)
    if (static_cast<std::uint8_t>(row.code) == code && row.itemsize * 8 == bits) return row.dtype;
  return std::nullopt;
}

}  // namespace tb

#include <bit>

#include "tensorbridge/core/tensor.hpp"

namespace tb {

std::optional<dtype> dtype_from_buffer_format(std::string_view format, std::size_t itemsize, bool* byteswapped) {
  bool swapped = false;
  if (!format.empty()) {
    constexpr bool little = std::endian::native == std::endian::little;
    switch (format.front()) {
      case '@':
      case '=':
        format.remove_prefix(1);
        break;
      case '<':
        swapped = !little;
        format.remove_prefix(1);
        break;
      case '>':
      case '!':
        swapped = little;
        format.remove_prefix(1);
        break;
      default:
        break;
    }
  }
  if (byteswapped) *byteswapped = swapped;
  dtype_kind kind;
  if (format == "?") kind = dtype_kind::boolean;
  else if (format.size() == 1 && std::string_view("bhilqn").find(format[0]) != std::string_view::npos) kind = dtype_kind::signed_int;
  else if (format.size() == 1 && std::string_view("BHILQN").find(format[0]) != std::string_view::npos) kind = dtype_kind::unsigned_int;
  else if (format == "e" || format == "f" || format == "d") kind = dtype_kind::floating;
  else if (format == "Zf" || format == "Zd") kind = dtype_kind::complex;
  else return std::nullopt;
  for (const auto& row : all_dtypes())
    if (row.kind == kind && row.itemsize == itemsize && row.dtype != dtype::bfloat16) return row.dtype;
  return std::nullopt;
}

}  // namespace tb
