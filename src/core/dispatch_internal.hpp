#pragma once
// Maps a runtime `tb::dtype` to a C++ element type, and a runtime item size to a constant, once,
// for every kernel that needs one.

#include <bit>
#include <complex>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tensorbridge/core/dtype.hpp"

namespace tb::detail {

/// IEEE binary16, stored as its bits.
struct half {
  std::uint16_t bits;
};
/// bfloat16 (the top half of a float32), stored as its bits.
struct bfloat16 {
  std::uint16_t bits;
};

template <class T>
struct type_tag {
  using type = T;
};

/// Calls `f(type_tag<T>{})` with the C++ type of `t`'s elements.
template <class F>
decltype(auto) visit_dtype(dtype t, F&& f) {
  switch (t) {
    case dtype::bool_: return f(type_tag<bool>{});
    case dtype::int8: return f(type_tag<std::int8_t>{});
    case dtype::int16: return f(type_tag<std::int16_t>{});
    case dtype::int32: return f(type_tag<std::int32_t>{});
    case dtype::int64: return f(type_tag<std::int64_t>{});
    case dtype::uint8: return f(type_tag<std::uint8_t>{});
    case dtype::uint16: return f(type_tag<std::uint16_t>{});
    case dtype::uint32: return f(type_tag<std::uint32_t>{});
    case dtype::uint64: return f(type_tag<std::uint64_t>{});
    case dtype::float16: return f(type_tag<half>{});
    case dtype::bfloat16: return f(type_tag<bfloat16>{});
    case dtype::float32: return f(type_tag<float>{});
    case dtype::float64: return f(type_tag<double>{});
    case dtype::complex64: return f(type_tag<std::complex<float>>{});
    case dtype::complex128: return f(type_tag<std::complex<double>>{});
  }
  return f(type_tag<float>{});
}

/// Calls `f(std::integral_constant<std::size_t, N>{})` when `bytes` is one of the sizes of an
/// element or a small row (a feature vector, a label), else `f(bytes)`. A `memcpy` of the
/// constant size compiles to a few loads and stores; a runtime size is a call, which dominates
/// when many small items are moved one by one.
template <class F>
decltype(auto) visit_size(std::size_t bytes, F&& f) {
  switch (bytes) {
    case 1: return f(std::integral_constant<std::size_t, 1>{});
    case 2: return f(std::integral_constant<std::size_t, 2>{});
    case 4: return f(std::integral_constant<std::size_t, 4>{});
    case 8: return f(std::integral_constant<std::size_t, 8>{});
    case 12: return f(std::integral_constant<std::size_t, 12>{});
    case 16: return f(std::integral_constant<std::size_t, 16>{});
    case 24: return f(std::integral_constant<std::size_t, 24>{});
    case 32: return f(std::integral_constant<std::size_t, 32>{});
    case 40: return f(std::integral_constant<std::size_t, 40>{});
    case 48: return f(std::integral_constant<std::size_t, 48>{});
    case 64: return f(std::integral_constant<std::size_t, 64>{});
    default: return f(bytes);
  }
}

}  // namespace tb::detail
