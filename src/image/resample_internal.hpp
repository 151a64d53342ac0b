#pragma once
// Pillow's two-pass resampling (Resample.c) with a bilinear filter, generalised to compute only a
// window of the output and to read from a region of a larger decoded image, so that the fused
// image ops give the pixels of Pillow's crop-then-resize without materialising either.

#include <cstdint>
#include <vector>

namespace tb::detail {

/// The fixed-point weights of one axis: for each output pixel of the window, the first input
/// pixel (relative to the axis' clamp origin), how many follow, and `ksize` weights.
struct resample_axis {
  int ksize = 0;
  std::vector<std::int32_t> first;   ///< per output pixel: first input pixel
  std::vector<std::int32_t> count;   ///< per output pixel: input pixels used
  std::vector<std::int32_t> weight;  ///< per output pixel: ksize weights (22 fractional bits)
  bool identity = false;             ///< the axis is copied as is (Pillow skips the pass)
};

/// Weights mapping input box [in0, in1) of an axis of `in_size` pixels to `out_size` pixels, for
/// output pixels [out_begin, out_begin + out_count). `antialias` widens the filter when
/// shrinking (Pillow always does).
resample_axis bilinear_axis(std::int64_t in_size, float in0, float in1, std::int64_t out_size, std::int64_t out_begin,
                            std::int64_t out_count, bool antialias);

/// Resamples uint8 pixels of `channels` channels: `src` points at the clamp origin (row 0, column
/// 0 of both axes' input), rows `src_stride` bytes apart; writes out_count(y) rows of
/// out_count(x) pixels to `out` (contiguous).
void resample(const std::uint8_t* src, std::int64_t src_stride, std::int64_t channels, const resample_axis& x,
              const resample_axis& y, std::uint8_t* out);

}  // namespace tb::detail
