#pragma once
/// @file dtype.hpp
/// Element types: the DLPack types that NumPy, PyTorch, TensorFlow and JAX exchange.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tb {

/// An element type. The order is the table order of `dtype_info`; never persist the numbers.
enum class dtype : std::uint8_t {
  bool_,
  int8,
  int16,
  int32,
  int64,
  uint8,
  uint16,
  uint32,
  uint64,
  float16,
  bfloat16,
  float32,
  float64,
  complex64,
  complex128,
};

/// How many dtypes there are.
inline constexpr int dtype_count = 15;

/// The family of a dtype, as NumPy names it in `dtype.kind` ('b', 'i', 'u', 'f', 'c').
/// bfloat16 is a float ('f') here, as in ml_dtypes.
enum class dtype_kind : char { boolean = 'b', signed_int = 'i', unsigned_int = 'u', floating = 'f', complex = 'c' };

/// DLPack's type codes (`DLDataTypeCode`), numbered exactly as the DLPack spec.
enum class dl_code : std::uint8_t { int_ = 0, uint = 1, float_ = 2, opaque_handle = 3, bfloat = 4, complex = 5, bool_ = 6 };

/// Everything known about one dtype; one row of the single dtype table.
struct dtype_info {
  tb::dtype dtype;          ///< the dtype this row describes
  std::string_view name;    ///< the NumPy/PyTorch name: "float32", "bfloat16", "bool"
  dtype_kind kind;          ///< the family
  std::size_t itemsize;     ///< bytes per element
  dl_code code;             ///< the DLPack type code
  int digits;               ///< exact binary digits of the value (mantissa + 1 for floats, bits for ints; 1 for bool)
  int max_exponent;         ///< for floats: the largest binary exponent (float16: 16); 0 otherwise
};

/// The table row of `t`.
const dtype_info& info(dtype t) noexcept;

/// All dtypes, in table order.
std::span<const dtype_info> all_dtypes() noexcept;

/// Bytes per element of `t`.
inline std::size_t itemsize(dtype t) noexcept { return info(t).itemsize; }

/// The canonical name of `t` ("float32").
inline std::string_view name(dtype t) noexcept { return info(t).name; }

/// Parses a dtype name. Accepts canonical names and the common aliases "float" (float32),
/// "double" (float64), "half" (float16), "bf16", "int" (int64), "long" (int64), "bool_".
/// Throws `tb::error` (type) naming the valid choices for anything else.
dtype dtype_from_name(std::string_view name);

/// The dtype of a DLPack (code, bits, lanes) triple, or nothing if tensorbridge has no such dtype.
std::optional<dtype> dtype_from_dlpack(std::uint8_t code, std::uint8_t bits, std::uint16_t lanes) noexcept;

/// True for float16, bfloat16, float32, float64.
inline bool is_floating(dtype t) noexcept { return info(t).kind == dtype_kind::floating; }
/// True for the signed and unsigned integers (not bool).
inline bool is_integer(dtype t) noexcept {
  auto k = info(t).kind;
  return k == dtype_kind::signed_int || k == dtype_kind::unsigned_int;
}
/// True for complex64 and complex128.
inline bool is_complex(dtype t) noexcept { return info(t).kind == dtype_kind::complex; }

/// A set of dtypes, one bit per dtype.
class dtype_set {
 public:
  constexpr dtype_set() = default;
  constexpr dtype_set(std::initializer_list<dtype> types) {
    for (dtype t : types) bits_ |= bit(t);
  }
  /// Every dtype.
  static constexpr dtype_set all() {
    dtype_set s;
    s.bits_ = (1u << dtype_count) - 1;
    return s;
  }
  constexpr bool contains(dtype t) const { return (bits_ & bit(t)) != 0; }
  constexpr dtype_set without(dtype t) const {
    dtype_set s = *this;
    s.bits_ &= ~bit(t);
    return s;
  }

 private:
  static constexpr std::uint32_t bit(dtype t) { return 1u << static_cast<unsigned>(t); }
  std::uint32_t bits_ = 0;
};

}  // namespace tb
