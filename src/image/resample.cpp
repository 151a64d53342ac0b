// Pillow's bilinear resampling, bit for bit: the same coefficients (double, normalised, then
// rounded to 22 fractional bits), the same horizontal-then-vertical order and the same rounding
// and clipping, so resize() equals Image.resize(size, BILINEAR) on uint8 images.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "image/image_internal.hpp"
#include "image/resample_internal.hpp"

namespace tb::detail {

namespace {

constexpr int precision_bits = 32 - 8 - 2;

double bilinear(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

std::uint8_t clip8(std::int32_t v) {
  if (v >= (1 << precision_bits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<std::uint8_t>(v >> precision_bits);
}

}  // namespace

resample_axis bilinear_axis(std::int64_t in_size, float in0, float in1, std::int64_t out_size, std::int64_t out_begin,
                            std::int64_t out_count, bool antialias) {
  resample_axis a;
  a.identity = in0 == 0.0f && in1 == static_cast<float>(in_size) && out_size == in_size;
  const double scale = static_cast<double>(in1 - in0) / static_cast<double>(out_size);
  double filterscale = scale;
  if (filterscale < 1.0 || !antialias) filterscale = 1.0;
  const double support = 1.0 * filterscale;
  a.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  const auto n = static_cast<std::size_t>(out_count);
  a.first.resize(n);
  a.count.resize(n);
  a.weight.assign(n * static_cast<std::size_t>(a.ksize), 0);
  std::vector<double> k(static_cast<std::size_t>(a.ksize));
  for (std::int64_t i = 0; i < out_count; ++i) {
    const std::int64_t xx = out_begin + i;
    const double center = in0 + (static_cast<double>(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    auto xmin = static_cast<std::int64_t>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    auto xmax = static_cast<std::int64_t>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    xmax = std::min<std::int64_t>(std::max<std::int64_t>(xmax, 0), a.ksize);
    double ww = 0.0;
    for (std::int64_t x = 0; x < xmax; ++x) {
      const double w = bilinear((static_cast<double>(x + xmin) - center + 0.5) * ss);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    std::int32_t* kk = a.weight.data() + i * a.ksize;
    for (std::int64_t x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[static_cast<std::size_t>(x)] / ww : k[static_cast<std::size_t>(x)];
      kk[x] = static_cast<std::int32_t>(w < 0 ? -0.5 + w * (1 << precision_bits) : 0.5 + w * (1 << precision_bits));
    }
    a.first[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(xmin);
    a.count[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(xmax);
  }
  return a;
}

namespace {

template <int C>
[[gnu::always_inline]] inline void horizontal(const std::uint8_t* src, std::int64_t rows, std::int64_t src_stride, std::int64_t channels,
                const resample_axis& x, std::uint8_t* out) {
  const auto ow = static_cast<std::int64_t>(x.first.size());
  if constexpr (C == 0) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint8_t* line = src + r * src_stride;
      std::uint8_t* o = out + r * ow * channels;
      for (std::int64_t i = 0; i < ow; ++i) {
        const std::int32_t* k = x.weight.data() + i * x.ksize;
        const std::uint8_t* p = line + x.first[static_cast<std::size_t>(i)] * channels;
        const std::int32_t n = x.count[static_cast<std::size_t>(i)];
        for (std::int64_t c = 0; c < channels; ++c) {
          std::int32_t ss = 1 << (precision_bits - 1);
          for (std::int32_t t = 0; t < n; ++t) ss += p[t * channels + c] * k[t];
          o[i * channels + c] = clip8(ss);
        }
      }
    }
  } else {
    // All channels of a pixel per tap: one weight load feeds C multiply-adds.
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::uint8_t* line = src + r * src_stride;
      std::uint8_t* o = out + r * ow * C;
      for (std::int64_t i = 0; i < ow; ++i) {
        const std::int32_t* k = x.weight.data() + i * x.ksize;
        const std::uint8_t* p = line + x.first[static_cast<std::size_t>(i)] * C;
        const std::int32_t n = x.count[static_cast<std::size_t>(i)];
        std::int32_t ss[C];
        for (int c = 0; c < C; ++c) ss[c] = 1 << (precision_bits - 1);
        for (std::int32_t t = 0; t < n; ++t) {
          const std::int32_t w = k[t];
          for (int c = 0; c < C; ++c) ss[c] += p[t * C + c] * w;
        }
        for (int c = 0; c < C; ++c) o[i * C + c] = clip8(ss[c]);
      }
    }
  }
}

[[gnu::always_inline]] inline void vertical(const std::uint8_t* src, std::int64_t src_stride, std::int64_t row_bytes, const resample_axis& y,
              std::uint8_t* out) {
  const auto oh = static_cast<std::int64_t>(y.first.size());
  std::vector<std::int32_t> acc(static_cast<std::size_t>(row_bytes));
  for (std::int64_t i = 0; i < oh; ++i) {
    std::fill(acc.begin(), acc.end(), 1 << (precision_bits - 1));
    const std::int32_t* k = y.weight.data() + i * y.ksize;
    const std::int32_t n = y.count[static_cast<std::size_t>(i)];
    const std::uint8_t* base = src + y.first[static_cast<std::size_t>(i)] * src_stride;
    for (std::int32_t t = 0; t < n; ++t) {
      const std::uint8_t* line = base + t * src_stride;
      const std::int32_t w = k[t];
      for (std::int64_t b = 0; b < row_bytes; ++b) acc[static_cast<std::size_t>(b)] += line[b] * w;
    }
    std::uint8_t* o = out + i * row_bytes;
    for (std::int64_t b = 0; b < row_bytes; ++b) o[b] = clip8(acc[static_cast<std::size_t>(b)]);
  }
}

}  // namespace

// Compiled for AVX2 too (picked at load time): the 32-bit multiply-adds of both passes vectorise
// there, and bit-exactness does not depend on the instruction set (integer arithmetic).
// Not under ThreadSanitizer: the clones' resolver runs while the dynamic loader relocates, before
// the TSan runtime exists, and its instrumented entry crashes every test binary at start-up.
#if defined(__x86_64__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
void resample(const std::uint8_t* src, std::int64_t src_stride, std::int64_t channels, const resample_axis& x,
              const resample_axis& y, std::uint8_t* out) {
  const auto ow = static_cast<std::int64_t>(x.first.size());
  const auto oh = static_cast<std::int64_t>(y.first.size());
  if (ow == 0 || oh == 0) return;
  // Input rows the vertical pass reads.
  std::int64_t row0 = y.first[0], row1 = 0;
  for (std::size_t i = 0; i < y.first.size(); ++i) {
    row0 = std::min<std::int64_t>(row0, y.first[i]);
    row1 = std::max<std::int64_t>(row1, y.first[i] + y.count[i]);
  }
  if (y.identity) {
    row0 = y.first[0];
    row1 = y.first[0] + oh;
  }
  const std::int64_t rows = std::max<std::int64_t>(row1 - row0, 0);
  const std::int64_t row_bytes = ow * channels;
  std::vector<std::uint8_t> temp;
  const std::uint8_t* hsrc = src + row0 * src_stride;
  const std::uint8_t* vsrc;
  std::int64_t vstride;
  if (x.identity) {
    vsrc = hsrc + x.first[0] * channels;
    vstride = src_stride;
  } else {
    temp.resize(static_cast<std::size_t>(rows * row_bytes));
    switch (channels) {
      case 1: horizontal<1>(hsrc, rows, src_stride, channels, x, temp.data()); break;
      case 3: horizontal<3>(hsrc, rows, src_stride, channels, x, temp.data()); break;
      case 4: horizontal<4>(hsrc, rows, src_stride, channels, x, temp.data()); break;
      default: horizontal<0>(hsrc, rows, src_stride, channels, x, temp.data()); break;
    }
    vsrc = temp.data();
    vstride = row_bytes;
  }
  if (y.identity) {
    for (std::int64_t i = 0; i < oh; ++i) std::memcpy(out + i * row_bytes, vsrc + i * vstride, static_cast<std::size_t>(row_bytes));
    return;
  }
  resample_axis shifted = y;  // first rows relative to row0
  for (auto& f : shifted.first) f -= static_cast<std::int32_t>(row0);
  vertical(vsrc, vstride, row_bytes, shifted, out);
}

}  // namespace tb::detail
