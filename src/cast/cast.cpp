// Portable scalar cast kernels and the casting-rule table.

#include "tensorbridge/cast.hpp"

#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dispatch_internal.hpp"
#include "core/strided_internal.hpp"

namespace tb {
namespace {

using detail::bfloat16;
using detail::half;

float to_float(half h) {
  std::uint32_t sign = (h.bits & 0x8000u) << 16, exp = (h.bits >> 10) & 0x1f, man = h.bits & 0x3ffu;
  std::uint32_t out;
  if (exp == 0x1f) {
    out = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    out = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    out = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while ((man & 0x400u) == 0);
    out = sign | static_cast<std::uint32_t>(112 - e) << 23 | ((man & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(out);
}

half to_half(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  std::uint32_t sign = (x >> 16) & 0x8000u;
  std::uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return {static_cast<std::uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu))};  // NaN
  if (abs >= 0x477ff000u) return {static_cast<std::uint16_t>(sign | 0x7c00u)};  // rounds to inf
  if (abs < 0x38800000u) {  // subnormal or zero in half: round at the fixed point 2^-24
    float scaled = std::bit_cast<float>(abs) * 16777216.0f;  // exact; then RNE by the FPU
    return {static_cast<std::uint16_t>(sign | static_cast<std::uint32_t>(std::nearbyint(scaled)))};
  }
  std::uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return {static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13))};
}

float to_float(bfloat16 b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b.bits) << 16); }

bfloat16 to_bfloat16(float f) {
  std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return {static_cast<std::uint16_t>((x >> 16) | 0x40u)};  // quiet NaN
  return {static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16)};
}

template <class T>
constexpr bool is_complex_v = false;
template <class T>
constexpr bool is_complex_v<std::complex<T>> = true;
template <class T>
constexpr bool is_small_float_v = std::is_same_v<T, half> || std::is_same_v<T, bfloat16>;

// Widens any element to a value type arithmetic can use.
template <class T>
auto widen(T v) {
  if constexpr (is_small_float_v<T>) return to_float(v);
  else return v;
}

template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (is_small_float_v<From>) {
    return convert<To>(to_float(v));
  } else if constexpr (is_complex_v<From> && !is_complex_v<To>) {
    if constexpr (std::is_same_v<To, bool>) return v.real() != 0 || v.imag() != 0;
    else return convert<To>(v.real());
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From{};
  } else if constexpr (std::is_same_v<To, half>) {
    return to_half(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bfloat16>) {
    return to_bfloat16(static_cast<float>(v));
  } else if constexpr (is_complex_v<To> && is_complex_v<From>) {
    return To(static_cast<typename To::value_type>(v.real()), static_cast<typename To::value_type>(v.imag()));
  } else if constexpr (is_complex_v<To>) {
    return To(static_cast<typename To::value_type>(v), 0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // NaN gives 0; out-of-range values saturate at the type's limits.
    if (std::isnan(v)) return To{0};
    if (v <= static_cast<From>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (v >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace

std::string_view to_string(casting rule) noexcept {
  switch (rule) {
    case casting::no: return "no";
    case casting::equiv: return "equiv";
    case casting::safe: return "safe";
    case casting::same_kind: return "same_kind";
    case casting::unsafe: return "unsafe";
  }
  return "unknown";
}

casting casting_from_name(std::string_view name) {
  for (casting c : {casting::no, casting::equiv, casting::safe, casting::same_kind, casting::unsafe})
    if (to_string(c) == name) return c;
  fail(error_kind::value, "unknown casting rule \"", name, "\"; expected \"no\", \"equiv\", \"safe\", \"same_kind\" or \"unsafe\"");
}

bool can_cast(dtype from, dtype to, casting rule) noexcept {
  if (from == to || rule == casting::unsafe) return true;
  if (rule == casting::no || rule == casting::equiv) return false;
  const dtype_info& a = info(from);
  const dtype_info& b = info(to);
  auto rank = [](dtype_kind k) {
    switch (k) {
      case dtype_kind::boolean: return 0;
      case dtype_kind::unsigned_int: return 1;
      case dtype_kind::signed_int: return 2;
      case dtype_kind::floating: return 3;
      case dtype_kind::complex: return 4;
    }
    return 5;
  };
  bool safe;
  if (a.kind == dtype_kind::boolean) {
    safe = true;
  } else if (b.kind == dtype_kind::boolean) {
    safe = false;
  } else if (is_integer(from) && is_integer(to)) {
    bool a_signed = a.kind == dtype_kind::signed_int, b_signed = b.kind == dtype_kind::signed_int;
    safe = (a_signed == b_signed) ? b.digits >= a.digits : (!a_signed && b_signed && b.digits >= a.digits);
  } else if (is_integer(from)) {  // to float or complex: exact when the mantissa holds every value
    safe = b.digits >= a.digits + (a.kind == dtype_kind::unsigned_int ? 0 : 0) ||
           (b.digits == 11 && a.itemsize == 1) || (b.digits == 24 && a.itemsize <= 2) || (b.digits == 53 && a.itemsize <= 4);
  } else if (is_floating(from) && (is_floating(to) || is_complex(to))) {
    safe = b.digits >= a.digits && b.max_exponent >= a.max_exponent;
  } else if (is_complex(from) && is_complex(to)) {
    safe = b.digits >= a.digits;
  } else {
    safe = false;
  }
  if (safe) return true;
  return rule == casting::same_kind && rank(b.kind) >= rank(a.kind);
}

void cast_options::validate() const {}

void cast_into(const tensor& src, const tensor& dst, const cast_options& options) {
  options.validate();
  if (src.shape() != dst.shape())
    fail(error_kind::value, "cast_into: source ", src.describe(), " and destination ", dst.describe(), " differ in shape");
  if (dst.read_only()) fail(error_kind::value, "cast_into: the destination is read-only");
  if (!can_cast(src.dtype(), dst.dtype(), options.rule))
    fail(error_kind::type, "cannot cast ", name(src.dtype()), " to ", name(dst.dtype()), " under casting=\"",
         to_string(options.rule), "\"");
  auto layout = detail::make_row_layout(src, dst);
  detail::visit_dtype(src.dtype(), [&](auto src_tag) {
    using S = typename decltype(src_tag)::type;
    detail::visit_dtype(dst.dtype(), [&](auto dst_tag) {
      using D = typename decltype(dst_tag)::type;
      detail::for_each_row(layout, static_cast<const std::byte*>(src.data()), static_cast<std::byte*>(dst.data()),
                           dst.nbytes() + src.nbytes(), [&](const std::byte* s, std::byte* d, std::int64_t n) {
                             for (std::int64_t i = 0; i < n; ++i) {
                               S v;
                               std::memcpy(&v, s + i * layout.src_step, sizeof(S));
                               D out = convert<D>(v);
                               std::memcpy(d + i * layout.dst_step, &out, sizeof(D));
                             }
                           });
    });
  });
}

tensor cast(const tensor& src, dtype to, const cast_options& options) {
  tensor out = tensor::empty(src.shape(), to);
  cast_into(src, out, options);
  return out;
}

}  // namespace tb
