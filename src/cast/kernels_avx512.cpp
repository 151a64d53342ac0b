// AVX-512 kernels: the generic loop compiled for AVX-512 F/BW/DQ/VL (DQ brings int64 <-> float
// vector conversions), plus hand-written float16 and bfloat16 conversions with masked tails.
//
// bfloat16 rounding deliberately does not use the AVX512_BF16 instruction vcvtneps2bf16: it
// flushes subnormal inputs and outputs to zero whatever MXCSR says, which breaks the exactness
// promise; the integer rounding below is just as fast at memory bandwidth.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>

#include <cstdint>

#include "cast/convert_internal.hpp"
#include "cast/kernels_internal.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c"))), \
                             apply_to = function)
#else
#pragma GCC push_options
// GCC 12 warns about the deliberately undefined register behind every masked intrinsic.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")
#endif

namespace tb::detail {
namespace {
#include "generic_kernels.inc"

__mmask16 tail_mask(std::int64_t left) { return static_cast<__mmask16>((1u << left) - 1); }

void float32_to_float16(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const float*>(src);
  auto* d = static_cast<half*>(dst);
  std::int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = _mm512_cvtps_ph(_mm512_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i b = _mm512_cvtps_ph(_mm512_loadu_ps(s + i + 16), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), a);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i + 16), b);
  }
  for (; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i < 16 ? n - i : 16);
    __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    if (m == 0xffff) _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), h);
    else _mm256_mask_storeu_epi16(d + i, m, h);
  }
}

void float16_to_float32(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const half*>(src);
  auto* d = static_cast<float*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(d + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
  if (i < n) {  // masked loads and stores only for the tail: they cost more than plain ones
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(d + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, s + i)));
  }
}

// Integer round-to-nearest-even on the float bits; NaN keeps its top bits, quieted.
__m256i bfloat16_bits(__m512i x) {
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __m512i abs = _mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff));
  const __mmask16 nan = _mm512_cmpgt_epi32_mask(abs, _mm512_set1_epi32(0x7f800000));
  const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(x, 16), _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

void float32_to_bfloat16(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const float*>(src);
  auto* d = static_cast<bfloat16*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), bfloat16_bits(_mm512_loadu_si512(s + i)));
  if (i < n) {
    __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(d + i, m, bfloat16_bits(_mm512_maskz_loadu_epi32(m, s + i)));
  }
}

__m512i widen_bfloat16(__m256i b) {
  __m512i x = _mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16);
  const __mmask16 nan =
      _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_or_epi32(x, nan, x, _mm512_set1_epi32(0x400000));  // quiet the NaNs
}

void bfloat16_to_float32(const void* src, void* dst, std::int64_t n) {
  const auto* s = static_cast<const bfloat16*>(src);
  auto* d = static_cast<float*>(dst);
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_si512(d + i, widen_bfloat16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
  if (i < n) {
    __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_epi32(d + i, m, widen_bfloat16(_mm256_maskz_loadu_epi16(m, s + i)));
  }
}

}  // namespace

const cast_kernel_table& avx512_cast_kernels() {
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
