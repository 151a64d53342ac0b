// Cast kernels: exactness against the scalar reference on every compiled target, the documented
// semantics, casting rules, checked casts, strided and overlapping operands.

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cast/convert_internal.hpp"
#include "cast/kernels_internal.hpp"
#include "core/parallel_internal.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/threads.hpp"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace {

using tb::dtype;
using tb::tensor;
using tb::detail::bfloat16;
using tb::detail::cast_target;
using tb::detail::half;

// Restores the default target after a test that forces one.
struct target_scope {
  explicit target_scope(cast_target t) { tb::detail::set_cast_target(t); }
  ~target_scope() { tb::detail::set_cast_target(tb::detail::available_cast_targets().back()); }
};

template <class T>
std::uint64_t bits_of(T v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T) < 8 ? sizeof(T) : 8);
  return b;
}

template <class T>
tensor make(std::vector<T> values, dtype t) {
  tensor out = tensor::empty({static_cast<std::int64_t>(values.size())}, t);
  std::memcpy(out.data(), values.data(), values.size() * sizeof(T));
  return out;
}

template <class T>
std::vector<T> values_of(const tensor& t) {
  tensor c = t.contiguous();
  std::vector<T> out(static_cast<std::size_t>(c.numel()));
  std::memcpy(out.data(), c.data(), out.size() * sizeof(T));
  return out;
}

// ---- reference ------------------------------------------------------------------------------

// The reference itself against independent definitions on float32 edge classes.
TEST(CastReference, Float32ToFloat16EdgeClasses) {
  auto h = [](float f) { return tb::detail::narrow_float_bits<5, 10>(f); };
  auto b = [](float f) { return tb::detail::narrow_float_bits<8, 7>(f); };
  EXPECT_EQ(h(0.0f), 0x0000);
  EXPECT_EQ(h(-0.0f), 0x8000);
  EXPECT_EQ(h(1.0f), 0x3c00);
  EXPECT_EQ(h(65504.0f), 0x7bff);
  EXPECT_EQ(h(65519.996f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(h(65520.0f), 0x7c00);     // the tie rounds to even, i.e. to infinity
  EXPECT_EQ(h(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(h(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(h(std::ldexp(1.0f, -24)), 0x0001);       // smallest subnormal
  EXPECT_EQ(h(std::ldexp(1.0f, -25)), 0x0000);       // tie to even: 0
  EXPECT_EQ(h(std::ldexp(1.5f, -25)), 0x0001);       // above the tie
  EXPECT_EQ(h(std::ldexp(3.0f, -25)), 0x0002);       // 1.5 units: tie to even 2
  EXPECT_EQ(h(std::ldexp(1023.0f, -24)), 0x03ff);    // largest subnormal
  EXPECT_EQ(h(std::ldexp(2047.0f, -25)), 0x0400);    // rounds up into the smallest normal
  EXPECT_EQ(h(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie, even stays
  EXPECT_EQ(h(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie, odd rounds up
  EXPECT_EQ(h(std::bit_cast<float>(0x7fc00000u)), 0x7e00);  // quiet NaN
  EXPECT_EQ(h(std::bit_cast<float>(0x7f800001u)), 0x7e00);  // signalling NaN becomes quiet
  EXPECT_EQ(h(std::bit_cast<float>(0xffa00000u)), 0xff00);  // sign and top payload bits kept
  EXPECT_EQ(b(1.0f), 0x3f80);
  EXPECT_EQ(b(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(b(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(b(std::bit_cast<float>(0x7f7fffffu)), 0x7f80);  // max float rounds to inf
  EXPECT_EQ(b(std::bit_cast<float>(0x00000001u)), 0x0000);  // tiny subnormal rounds to 0
  EXPECT_EQ(b(std::bit_cast<float>(0x00008000u)), 0x0000);  // tie to even
  EXPECT_EQ(b(std::bit_cast<float>(0x00018000u)), 0x0002);  // subnormal kept, tie to even
  EXPECT_EQ(b(std::bit_cast<float>(0x80010000u)), 0x8001);  // negative subnormal
  EXPECT_EQ(b(std::bit_cast<float>(0x7f800001u)), 0x7fc0);  // signalling NaN becomes quiet
}

// All 2^16 float16 and bfloat16 values widen exactly, on every target, and round-trip.
TEST(CastExhaustive, Float16AndBfloat16ToFloat32AllTargets) {
  std::vector<std::uint16_t> in(1 << 16);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint16_t>(i);
  for (cast_target t : tb::detail::available_cast_targets()) {
    target_scope scope(t);
    for (dtype from : {dtype::float16, dtype::bfloat16}) {
      tensor src = make(in, from);
      auto out = values_of<float>(tb::cast(src, dtype::float32));
      auto back = values_of<std::uint16_t>(tb::cast(tb::cast(src, dtype::float32), from));
      for (std::size_t i = 0; i < in.size(); ++i) {
        float ref = from == dtype::float16 ? tb::detail::to_float(half{in[i]}) : tb::detail::to_float(bfloat16{in[i]});
        ASSERT_EQ(bits_of(out[i]), bits_of(ref)) << to_string(t) << " " << name(from) << " 0x" << std::hex << i;
        bool nan = std::isnan(ref);
        ASSERT_EQ(back[i], nan ? (in[i] | (from == dtype::float16 ? 0x200 : 0x40)) : in[i])
            << to_string(t) << " round trip of 0x" << std::hex << i;
      }
    }
  }
}

// float16 widening against the value formula (an independent reference).
TEST(CastReference, Float16ValueFormula) {
  for (std::uint32_t i = 0; i < (1u << 16); ++i) {
    std::uint32_t e = (i >> 10) & 0x1f, m = i & 0x3ff;
    double mag = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, static_cast<int>(e) - 25);
    double want = (i & 0x8000) ? -mag : mag;
    float got = tb::detail::to_float(half{static_cast<std::uint16_t>(i)});
    if (std::isnan(want)) ASSERT_TRUE(std::isnan(got));
    else ASSERT_EQ(static_cast<double>(got), want) << i;
  }
}

// ---- single rounding from float64 and from 64-bit integers --------------------------------

// Checks that `h` (bits of a float16 or bfloat16) is the round-to-nearest-even of `x`, using only
// exact arithmetic on doubles: the distance to the result is at most half a step to each neighbour.
template <class Small>
void expect_nearest_even(long double x, std::uint16_t h) {
  auto value = [](std::uint16_t b) { return static_cast<long double>(tb::detail::to_float(Small{b})); };
  long double v = value(h);
  if (std::isinf(v)) {
    std::uint16_t max_bits = static_cast<std::uint16_t>((h & 0x8000) | (std::is_same_v<Small, half> ? 0x7bff : 0x7f7f));
    long double max = value(max_bits), ulp = max - value(static_cast<std::uint16_t>(max_bits - 1));
    EXPECT_GE(std::fabs(x), std::fabs(max) + ulp / 2) << "rounded to inf too early";
    return;
  }
  std::uint16_t up = static_cast<std::uint16_t>((h & 0x7fff) + 1) | (h & 0x8000);
  std::uint16_t down = (h & 0x7fff) ? static_cast<std::uint16_t>(h - 1) : static_cast<std::uint16_t>(h ^ 0x8000);
  long double d = std::fabs(x - v);
  for (std::uint16_t n : {up, down}) {
    long double w = value(n);
    if (std::isinf(w) || std::isnan(w)) continue;
    long double dn = std::fabs(x - w);
    EXPECT_LE(d, dn) << "x=" << static_cast<double>(x) << " got " << static_cast<double>(v);
    if (d == dn && d != 0) EXPECT_EQ(h & 1, 0) << "tie not to even for x=" << static_cast<double>(x);
  }
}

TEST(CastReference, Float64RoundsOnceToFloat16AndBfloat16) {
  // x = 1 + 2^-11 + 2^-40: rounding to float32 first gives the tie 1 + 2^-11, which then goes to
  // even (1.0); rounding once must give 1 + 2^-10.
  double x = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(tb::detail::convert<half>(x).bits, 0x3c01);
  double y = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  EXPECT_EQ(tb::detail::convert<bfloat16>(y).bits, 0x3f81);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    double d = std::bit_cast<double>(rng());
    if (std::isnan(d) || std::fabs(d) > 1e39 || std::fabs(d) < 1e-45) d = std::ldexp(static_cast<double>(rng() >> 11), -60);
    expect_nearest_even<half>(d, tb::detail::convert<half>(d).bits);
    expect_nearest_even<bfloat16>(d, tb::detail::convert<bfloat16>(d).bits);
  }
}

TEST(CastReference, Int64RoundsOnceToBfloat16AndFloat32) {
  // 2^60 + 2^52 + 1: via float32 or plain double the tie appears and goes to even; once is up.
  std::int64_t v = (std::int64_t{1} << 60) + (std::int64_t{1} << 52) + 1;
  EXPECT_EQ(tb::detail::convert<bfloat16>(v).bits, 0x5d81);
  EXPECT_EQ(tb::detail::convert<bfloat16>(-v).bits, 0xdd81);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    std::uint64_t u = rng() >> (rng() % 64);
    expect_nearest_even<bfloat16>(static_cast<long double>(u), tb::detail::convert<bfloat16>(u).bits);
    auto s = static_cast<std::int64_t>(rng()) >> (rng() % 64);
    expect_nearest_even<bfloat16>(static_cast<long double>(s), tb::detail::convert<bfloat16>(s).bits);
    expect_nearest_even<half>(static_cast<long double>(s >> 47), tb::detail::convert<half>(s >> 47).bits);
  }
}

// ---- every pair on every target -------------------------------------------------------------

// Special values of each dtype, as raw bytes of 16-byte slots.
std::vector<std::array<unsigned char, 16>> specials(dtype t) {
  std::vector<std::array<unsigned char, 16>> out;
  tb::detail::visit_dtype(t, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto push = [&](T v) {
      std::array<unsigned char, 16> slot{};
      std::memcpy(slot.data(), &v, sizeof(T));
      out.push_back(slot);
    };
    const double doubles[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 127.9, 128.0, -128.0, -129.0, 255.5,
                              256.0, 65504.0, 65520.0, 1e5, -3e9, 4.3e9, 9.3e18, -9.3e18, 1.9e19, 3.5e38, 1e300,
                              5e-324, 1e-40, 6e-8, INFINITY, -INFINITY, NAN, -NAN};
    std::mt19937_64 rng(static_cast<unsigned>(t));
    if constexpr (std::is_same_v<T, bool>) {
      for (int i = 0; i < 40; ++i) push(i % 3 == 0);
    } else if constexpr (std::is_integral_v<T>) {
      for (T v : {std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), T(0), T(1), T(-1), T(127), T(128),
                  T(255), T(256), T(-129), T(65535), T(65536), T(16777217)})
        push(v);
      for (int i = 0; i < 40; ++i) push(static_cast<T>(rng() >> (rng() % 64)));
    } else if constexpr (tb::detail::is_small_float_v<T>) {
      for (double d : doubles) push(tb::detail::convert<T>(d));
      for (int i = 0; i < 40; ++i) push(T{static_cast<std::uint16_t>(rng())});
    } else if constexpr (tb::detail::is_complex_v<T>) {
      using C = typename T::value_type;
      for (double d : doubles) push(T(static_cast<C>(d), static_cast<C>(d == 0 ? 1.0 : 0.0)));
    } else {
      for (double d : doubles) push(static_cast<T>(d));
      for (int i = 0; i < 40; ++i) push(std::bit_cast<T>(static_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(rng())));
    }
  });
  return out;
}

template <class T>
bool same_value(const T& a, const T& b) {
  if constexpr (tb::detail::is_complex_v<T>) {
    return same_value(a.real(), b.real()) && same_value(a.imag(), b.imag());
  } else if constexpr (std::is_floating_point_v<T>) {
    return (std::isnan(a) && std::isnan(b)) || bits_of(a) == bits_of(b);
  } else {
    return bits_of(a) == bits_of(b);
  }
}

TEST(CastPairs, EveryPairEveryTargetEqualsReference) {
  for (cast_target target : tb::detail::available_cast_targets()) {
    target_scope scope(target);
    for (const auto& from_info : tb::all_dtypes()) {
      auto slots = specials(from_info.dtype);
      // Repeat the specials so the vector bodies, the tails and the parallel split all run.
      std::vector<unsigned char> bytes;
      for (int rep = 0; rep < 3; ++rep)
        for (const auto& s : slots) bytes.insert(bytes.end(), s.begin(), s.begin() + static_cast<long>(from_info.itemsize));
      const auto n = static_cast<std::int64_t>(bytes.size() / from_info.itemsize);
      for (const auto& to_info : tb::all_dtypes()) {
        for (std::int64_t len : {n, n - 1, std::int64_t{1}, std::int64_t{17}}) {
          tensor src = tensor::empty({len}, from_info.dtype);
          std::memcpy(src.data(), bytes.data(), static_cast<std::size_t>(len) * from_info.itemsize);
          tensor out = tb::cast(src, to_info.dtype);
          tb::detail::visit_dtype(from_info.dtype, [&](auto ft) {
            tb::detail::visit_dtype(to_info.dtype, [&](auto tt) {
              using F = typename decltype(ft)::type;
              using T = typename decltype(tt)::type;
              for (std::int64_t i = 0; i < len; ++i) {
                F v;
                std::memcpy(&v, bytes.data() + i * sizeof(F), sizeof(F));
                T want = tb::detail::convert<T>(v), got;
                std::memcpy(&got, static_cast<const char*>(out.data()) + i * sizeof(T), sizeof(T));
                if constexpr (tb::detail::is_small_float_v<T>) {
                  ASSERT_EQ(got.bits, want.bits) << to_string(target) << " " << from_info.name << "->" << to_info.name << " [" << i << "]";
                } else {
                  ASSERT_TRUE(same_value(got, want)) << to_string(target) << " " << from_info.name << "->" << to_info.name << " [" << i << "]";
                }
              }
            });
          });
        }
      }
    }
  }
}

// ---- documented semantics -------------------------------------------------------------------

TEST(CastSemantics, FloatToIntTruncatesSaturatesAndMapsNanToZero) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  tensor src = make<double>({-3.7, 3.7, -0.5, nan, inf, -inf, 1e10, -1e10, 127.9, -128.9, -129.0, 300.0}, dtype::float64);
  EXPECT_EQ(values_of<std::int32_t>(tb::cast(src, dtype::int32)),
            (std::vector<std::int32_t>{-3, 3, 0, 0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 127, -128, -129, 300}));
  EXPECT_EQ(values_of<std::int8_t>(tb::cast(src, dtype::int8)),
            (std::vector<std::int8_t>{-3, 3, 0, 0, 127, -128, 127, -128, 127, -128, -128, 127}));
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(src, dtype::uint8)),
            (std::vector<std::uint8_t>{0, 3, 0, 0, 255, 0, 255, 0, 127, 0, 0, 255}));
  tensor big = make<float>({9.3e18f, -9.3e18f, 1.8e19f, 2e19f, -1.0f}, dtype::float32);
  EXPECT_EQ(values_of<std::int64_t>(tb::cast(big, dtype::int64)),
            (std::vector<std::int64_t>{INT64_MAX, INT64_MIN, INT64_MAX, INT64_MAX, -1}));
  EXPECT_EQ(values_of<std::uint64_t>(tb::cast(big, dtype::uint64))[2], static_cast<std::uint64_t>(1.8e19f));
  EXPECT_EQ(values_of<std::uint64_t>(tb::cast(big, dtype::uint64))[3], UINT64_MAX);
}

TEST(CastSemantics, IntegersWrapBoolsAndComplex) {
  tensor src = make<std::int32_t>({300, -1, 128, -129, 0}, dtype::int32);
  EXPECT_EQ(values_of<std::int8_t>(tb::cast(src, dtype::int8)), (std::vector<std::int8_t>{44, -1, -128, 127, 0}));
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(src, dtype::uint8)), (std::vector<std::uint8_t>{44, 255, 128, 127, 0}));
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(src, dtype::bool_)), (std::vector<std::uint8_t>{1, 1, 1, 1, 0}));
  tensor flags = make<std::uint8_t>({1, 0}, dtype::bool_);
  EXPECT_EQ(values_of<float>(tb::cast(flags, dtype::float32)), (std::vector<float>{1.0f, 0.0f}));
  EXPECT_EQ(values_of<std::uint16_t>(tb::cast(flags, dtype::float16)), (std::vector<std::uint16_t>{0x3c00, 0}));
  tensor nans = make<float>({NAN, -0.0f}, dtype::float32);
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(nans, dtype::bool_)), (std::vector<std::uint8_t>{1, 0}));
  tensor z = make<std::complex<double>>({{1.5, 2.0}, {0.0, -1.0}, {0.0, 0.0}}, dtype::complex128);
  EXPECT_THROW(tb::cast(z, dtype::float64, {tb::casting::same_kind}), tb::error);
  EXPECT_EQ(values_of<double>(tb::cast(z, dtype::float64)), (std::vector<double>{1.5, 0.0, 0.0}));
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(z, dtype::bool_)), (std::vector<std::uint8_t>{1, 1, 0}));
}

#if defined(__x86_64__)
// A caller that enabled flush-to-zero still gets exact subnormals, and keeps its MXCSR.
TEST(CastSemantics, IgnoresCallerFlushToZero) {
  unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040u);  // FTZ | DAZ
  tensor src = make<double>(std::vector<double>(100, 1e-40), dtype::float64);
  auto out = values_of<float>(tb::cast(src, dtype::float32));
  unsigned after = _mm_getcsr();
  _mm_setcsr(saved);
  EXPECT_EQ(after & 0x8040u, 0x8040u);
  EXPECT_EQ(out[99], static_cast<float>(1e-40));
  EXPECT_NE(out[99], 0.0f);
}
#endif

// ---- casting rules --------------------------------------------------------------------------

TEST(CastRules, AgreeWithNumpyTable) {
  // numpy 2.4 `np.can_cast(a, b, rule)`, rows = from, columns = to, in tb::dtype order;
  // bfloat16 rows/columns as tensorbridge defines them (see docs/readme/cast.md).
  const char* safe[] = {
      "111111111111111", ".1111....111111", "..111......1111", "...11.......1.1", "....1.......1.1",
      "..1111111111111", "...11.111..1111", "....1..11...1.1", "........1...1.1", ".........1.1111",
      "..........11111", "...........1111", "............1.1", ".............11", "..............1"};
  const char* same_kind[] = {
      "111111111111111", ".1111....111111", ".1111....111111", ".1111....111111", ".1111....111111",
      ".11111111111111", ".11111111111111", ".11111111111111", ".11111111111111", ".........111111",
      ".........111111", ".........111111", ".........111111", ".............11", ".............11"};
  for (int a = 0; a < tb::dtype_count; ++a)
    for (int b = 0; b < tb::dtype_count; ++b) {
      auto from = static_cast<dtype>(a), to = static_cast<dtype>(b);
      EXPECT_EQ(tb::can_cast(from, to, tb::casting::safe), safe[a][b] == '1') << name(from) << "->" << name(to);
      EXPECT_EQ(tb::can_cast(from, to, tb::casting::same_kind), same_kind[a][b] == '1') << name(from) << "->" << name(to);
      EXPECT_TRUE(tb::can_cast(from, to, tb::casting::unsafe));
      EXPECT_EQ(tb::can_cast(from, to, tb::casting::no), a == b);
      EXPECT_EQ(tb::can_cast(from, to, tb::casting::equiv), a == b);
    }
}

TEST(CastRules, RefusalNamesRuleAndPair) {
  tensor src = make<double>({1.0}, dtype::float64);
  try {
    tb::cast(src, dtype::int32, {tb::casting::same_kind});
    FAIL();
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), tb::error_kind::type);
    EXPECT_NE(std::string(e.what()).find("cannot cast float64 to int32 under casting=\"same_kind\""), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(tb::casting_from_name("sometimes"), tb::error);
  EXPECT_EQ(tb::casting_from_name("same_kind"), tb::casting::same_kind);
}

// ---- checked casts --------------------------------------------------------------------------

std::string checked_message(const tensor& src, const tensor& dst, tb::error_kind want) {
  tb::cast_options opt;
  opt.checked = true;
  try {
    tb::cast_into(src, dst, opt);
  } catch (const tb::error& e) {
    EXPECT_EQ(e.kind(), want) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(CastChecked, NamesFirstBadIndexAndLeavesDestinationUntouched) {
  tensor src = tensor::empty({3, 4}, dtype::float64);
  for (int i = 0; i < 12; ++i) static_cast<double*>(src.data())[i] = i;
  static_cast<double*>(src.data())[6] = 1e10;  // (1, 2)
  static_cast<double*>(src.data())[9] = NAN;   // later: not reported
  tensor dst = tensor::zeros({3, 4}, dtype::int32);
  std::string msg = checked_message(src, dst, tb::error_kind::overflow);
  EXPECT_NE(msg.find("index (1, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is 1e+10, outside the range of int32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("float64 -> int32"), std::string::npos) << msg;
  for (int v : values_of<std::int32_t>(dst.reshape({12}))) EXPECT_EQ(v, 0);

  // In a transposed view, "first" is in the view's C order.
  tensor t = src.transpose();  // shape (4, 3); element (2, 1) of t is element (1, 2) of src
  msg = checked_message(t, tensor::zeros({4, 3}, dtype::int32), tb::error_kind::value);
  EXPECT_NE(msg.find("index (1, 2) (flat index 5) is nan"), std::string::npos) << msg;  // t(1, 2) = src(2, 1)
}

TEST(CastChecked, EachKindOfLoss) {
  auto one = [](auto v, dtype from, dtype to, tb::error_kind kind, const char* text) {
    tensor src = make<decltype(v)>({v, v}, from);
    std::string msg = checked_message(src, tensor::empty({2}, to), kind);
    EXPECT_NE(msg.find(text), std::string::npos) << msg;
  };
  one(NAN, dtype::float32, dtype::int64, tb::error_kind::value, "is nan");
  one(INFINITY, dtype::float32, dtype::int64, tb::error_kind::overflow, "is inf");
  one(-1.0, dtype::float64, dtype::uint8, tb::error_kind::overflow, "[0, 255]");
  one(std::int64_t{300}, dtype::int64, dtype::int8, tb::error_kind::overflow, "is 300");
  one(std::int8_t{-1}, dtype::int8, dtype::uint64, tb::error_kind::overflow, "is -1");
  one(std::uint64_t{1} << 63, dtype::uint64, dtype::int64, tb::error_kind::overflow, "9223372036854775808");
  one(1e300, dtype::float64, dtype::float32, tb::error_kind::overflow, "infinity");
  one(70000.0f, dtype::float32, dtype::float16, tb::error_kind::overflow, "infinity");
  one(std::int32_t{70000}, dtype::int32, dtype::float16, tb::error_kind::overflow, "infinity");
  one(std::complex<float>(1, 2), dtype::complex64, dtype::float32, tb::error_kind::value, "(1+2j)");

  // What passes: fractions, in-range values, inf stays inf, NaN between floats, -0.5 into uint8.
  tb::cast_options opt;
  opt.checked = true;
  tensor ok = make<double>({-0.5, 255.9, 1.5}, dtype::float64);
  EXPECT_EQ(values_of<std::uint8_t>(tb::cast(ok, dtype::uint8, opt)), (std::vector<std::uint8_t>{0, 255, 1}));
  tensor fl = make<double>({INFINITY, NAN, 1e-300}, dtype::float64);
  EXPECT_NO_THROW(tb::cast(fl, dtype::float16, opt));
  tensor ints = make<std::int64_t>({-128, 127}, dtype::int64);
  EXPECT_NO_THROW(tb::cast(ints, dtype::int8, opt));
}

// ---- strides, overlap, threads --------------------------------------------------------------

TEST(CastStrided, AnyStridesEqualContiguous) {
  tb::set_num_threads(2);
  for (cast_target target : tb::detail::available_cast_targets()) {
    target_scope scope(target);
    // 3 MiB of float32 so the parallel path runs; a transposed, negatively strided view.
    tensor base = tensor::empty({1024, 768}, dtype::float32);
    auto* p = static_cast<float*>(base.data());
    for (std::int64_t i = 0; i < base.numel(); ++i) p[i] = static_cast<float>(i % 70001) * 1.37f - 30000.0f;
    tensor view = base.slice(1023, 0, -2).transpose();  // shape (768, 512)
    for (dtype to : {dtype::float16, dtype::bfloat16, dtype::float64, dtype::int16, dtype::uint8}) {
      tensor got = tb::cast(view, to);
      ASSERT_TRUE(got.is_contiguous());
      ASSERT_TRUE(got.is_aligned(64));
      tensor want = tb::cast(view.contiguous(), to);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), got.nbytes()), 0) << to_string(target) << " " << name(to);
      // Strided destination too.
      tensor dst_base = tensor::zeros({768, 1024}, to);
      tensor dst = dst_base.permute(std::vector<std::int64_t>{1, 0}).slice(0, 1024, 2).permute(std::vector<std::int64_t>{1, 0});
      tb::cast_into(view, dst);
      ASSERT_EQ(std::memcmp(dst.contiguous().data(), want.data(), want.nbytes()), 0) << name(to);
    }
  }
  tb::set_num_threads(0);
}

// Strided sources are read by each pair's fused every-second-element kernel (step 2, where the
// pair has one) or gathered into an L1 tile by each target's vectorised gather (compile-time
// steps of 2, 3, 4 and -1 elements, any other step in a loop); the result must be bit-identical to
// casting the contiguous copy, for every pair, on every target, across tile boundaries and tails.
TEST(CastStrided, EveryPairEveryStepEqualsContiguous) {
  const std::int64_t n = 2 * 1024 + 77;  // two full tiles and a ragged one
  for (cast_target target : tb::detail::available_cast_targets()) {
    target_scope scope(target);
    for (const auto& from_info : tb::all_dtypes()) {
      // Raw random bytes: every bit pattern class (NaNs, subnormals, huge integers) turns up.
      tensor base = tensor::empty({5 * n + 8}, from_info.dtype);
      std::mt19937_64 rng(static_cast<unsigned>(from_info.dtype) + 17);
      auto* bytes = static_cast<unsigned char*>(base.data());
      for (std::size_t i = 0; i < base.nbytes(); ++i) bytes[i] = static_cast<unsigned char>(rng());
      if (from_info.dtype == dtype::bool_)
        for (std::size_t i = 0; i < base.nbytes(); ++i) bytes[i] &= 1;
      for (std::int64_t step : {2, 3, 4, 5, -1, -2}) {
        tensor view = step > 0 ? base.slice(1, 1 + step * n, step) : base.slice(5 * n, 5 * n + step * n, step);
        ASSERT_EQ(view.numel(), n) << step;
        tensor dense = view.contiguous();
        for (const auto& to_info : tb::all_dtypes()) {
          tensor got = tb::cast(view, to_info.dtype);
          tensor want = tb::cast(dense, to_info.dtype);
          ASSERT_EQ(std::memcmp(got.data(), want.data(), want.nbytes()), 0)
              << to_string(target) << " " << from_info.name << "->" << to_info.name << " step " << step;
        }
      }
      // Two dimensions, every second column: rows of strided runs (the driver's outer loop).
      tensor grid = base.slice(0, 5 * n - (5 * n) % 10).reshape({10, -1});
      tensor columns = grid.transpose().slice(0, grid.shape()[1], 2).transpose();
      ASSERT_EQ(columns.strides()[1], 2);
      tensor want = tb::cast(columns.contiguous(), dtype::float32);
      tensor got = tb::cast(columns, dtype::float32);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), want.nbytes()), 0) << to_string(target) << " " << from_info.name;
    }
  }
}

// Destinations of 32 MiB and more are written with non-temporal stores through an L1 block.
TEST(CastStrided, LargeStreamedOutputsEqualReference) {
  tb::set_num_threads(2);
  const std::int64_t n = (std::int64_t{1} << 22) + 5;  // 32 MiB of float64 output, odd length
  tensor base = tensor::empty({2 * n}, dtype::int32);
  auto* p = static_cast<std::int32_t*>(base.data());
  for (std::int64_t i = 0; i < 2 * n; ++i) p[i] = static_cast<std::int32_t>(i * 2654435761u);
  for (tensor src : {base.slice(0, n), base.slice(1, 2 * n, 2)}) {
    tensor out = tb::cast(src, dtype::float64);
    tensor view = src.contiguous();
    for (std::int64_t i = 0; i < n; ++i)
      ASSERT_EQ(static_cast<const double*>(out.data())[i], static_cast<double>(static_cast<const std::int32_t*>(view.data())[i])) << i;
  }
  tb::set_num_threads(0);
}

TEST(CastStrided, OverlappingSourceAndDestination) {
  tensor buf = tensor::empty({1000}, dtype::float64);
  for (int i = 0; i < 1000; ++i) static_cast<double*>(buf.data())[i] = i + 0.25;
  // Float32 view of the same memory: the first 500 doubles' bytes hold the 1000 floats.
  tensor src = buf.slice(0, 500);
  tensor dst(buf.storage(), dtype::float32, {500}, {1}, 0);
  tb::cast_into(src, dst);
  auto out = values_of<float>(dst);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(out[static_cast<std::size_t>(i)], static_cast<float>(i + 0.25)) << i;
}

TEST(CastStrided, RefusesBadDestinations) {
  tensor src = make<float>({1, 2, 3}, dtype::float32);
  EXPECT_THROW(tb::cast_into(src, tensor::empty({4}, dtype::float64)), tb::error);
  EXPECT_THROW(tb::cast_into(src, tensor::empty({3}, dtype::float64).as_read_only()), tb::error);
  tensor one = tensor::empty({1}, dtype::float64);
  EXPECT_THROW(tb::cast_into(src, tensor(one.storage(), dtype::float64, {3}, {0})), tb::error);
  tensor empty = tensor::empty({0, 3}, dtype::float32);
  EXPECT_EQ(tb::cast(empty, dtype::float16).numel(), 0);
  tensor scalar = tensor::empty({}, dtype::float64);
  *static_cast<double*>(scalar.data()) = 2.5;
  EXPECT_EQ(values_of<std::int16_t>(tb::cast(scalar, dtype::int16)), (std::vector<std::int16_t>{2}));
}

TEST(CastTargets, SetAndReport) {
  auto targets = tb::detail::available_cast_targets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets.front(), cast_target::scalar);
  EXPECT_EQ(tb::detail::active_cast_target(), targets.back());
#if !defined(__x86_64__)
  EXPECT_THROW(tb::detail::set_cast_target(cast_target::avx2), tb::error);
#endif
}

}  // namespace
