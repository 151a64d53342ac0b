// AVX2 kernels: the generic loop compiled for AVX2/FMA/F16C, plus hand-written float16 and
// bfloat16 conversions. Everything after the pragma is compiled for that instruction set only
// and is called only after `__builtin_cpu_supports` said the CPU has it.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstdint>

#include "cast/convert_internal.hpp"
#include "cast/kernels_internal.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

namespace tb::detail {
namespace {
#include "generic_kernels.inc"

// Scalar tails use the reference, so the tails and the vector body agree by construction.
template <class To, class From>
void tail(const From* s, To* d, std::int64_t i, std::int64_t n) {
  for (; i < n; ++i) d[i] = convert<To>(s[i]);
}

// vcvtps2ph rounds to nearest even, keeps subnormals and quiets NaNs exactly like the reference
// (the exhaustive test checks all 2^32 inputs).
void float32_to_float16(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const float*>(src);
  auto* d = static_cast<half*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(s + i + 8), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i + 8), b);
  }
  tail(s, d, i, n);
}

void float16_to_float32(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const half*>(src);
  auto* d = static_cast<float*>(dst);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
  tail(s, d, i, n);
}

// Rounds 8 floats to bfloat16 bits (in the low half of each lane) with integer arithmetic:
// add 0x7fff plus the lowest kept bit (ties to even), shift; NaN keeps its top bits, quieted.
__m256i bfloat16_bits(__m256i x) {
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i abs = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
  const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x40));
  return _mm256_blendv_epi8(rounded, quiet, nan);
}

void float32_to_bfloat16(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const float*>(src);
  auto* d = static_cast<bfloat16*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a = bfloat16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)));
    __m256i b = bfloat16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + 8)));
    // packus works within 128-bit lanes; the permute puts the four quarters back in order.
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), packed);
  }
  tail(s, d, i, n);
}

void bfloat16_to_float32(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const bfloat16*>(src);
  auto* d = static_cast<float*>(dst);
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i x = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))), 16);
    const __m256i abs = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
    const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
    x = _mm256_or_si256(x, _mm256_and_si256(nan, _mm256_set1_epi32(0x400000)));  // quiet the NaNs
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), x);
  }
  tail(s, d, i, n);
}

}  // namespace

const cast_kernel_table& avx2_cast_kernels() {
  static const cast_kernel_table table = make_table_with_half_kernels(
      float32_to_float16, float16_to_float32, float32_to_bfloat16, bfloat16_to_float32);
  return table;
}

}  // namespace tb::detail

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // x86-64
