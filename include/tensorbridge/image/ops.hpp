#pragma once
/// @file ops.hpp
/// Native image operations on HWC uint8 images, and their fusion with decoding.
///
/// - `resize` is Pillow's bilinear resampling (`Image.resize(size, Image.BILINEAR)`, antialiased
///   when shrinking: the filter widens with the scale), with Pillow's fixed-point arithmetic.
/// - `random_resized_crop_box` is torchvision's `RandomResizedCrop.get_params` (10 attempts, then
///   the central-crop fallback), drawing from a stream seeded by one 64-bit seed per sample.
/// - `transform_image` runs decode -> crop -> resize -> flip -> normalize -> layout -> cast for one
///   encoded image and writes the finished sample once. For JPEG it decodes only the rows and
///   columns the output needs (libjpeg's crop/skip-scanline calls), and, if `dct_scaling` asks,
///   at the smallest DCT scale (k/8) that keeps at least the output's resolution.
///
/// Example:
/// ```
/// tb::image_transform t;
/// t.crop = tb::image_crop::random_resized;
/// t.height = t.width = 224;
/// t.flip_probability = 0.5;
/// t.mean = {123.675, 116.28, 103.53};
/// t.std = {58.395, 57.12, 57.375};
/// tb::tensor chw = tb::transform_image(bytes, t, tb::sample_seed(0, epoch, index));  // (3, 224, 224) float32
/// ```

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tensorbridge/image/image.hpp"

namespace tb {

/// A rectangle of an image, in whole pixels.
struct crop_box {
  std::int64_t top = 0;     ///< first row
  std::int64_t left = 0;    ///< first column
  std::int64_t height = 0;  ///< rows
  std::int64_t width = 0;   ///< columns
};

/// torchvision's `RandomResizedCrop.get_params` for a `height` x `width` image: up to 10 draws of
/// an area fraction in [scale_min, scale_max] and a log-uniform aspect ratio in
/// [ratio_min, ratio_max], then the central-crop fallback. Deterministic in `seed`.
crop_box random_resized_crop_box(std::int64_t height, std::int64_t width, std::uint64_t seed,
                                 double scale_min = 0.08, double scale_max = 1.0, double ratio_min = 3.0 / 4.0,
                                 double ratio_max = 4.0 / 3.0);

/// torchvision's `CenterCrop`: the centred `out_height` x `out_width` box (top = round((H - h) / 2)).
/// Throws `tb::error` (value) when the image is smaller than the crop.
crop_box center_crop_box(std::int64_t height, std::int64_t width, std::int64_t out_height, std::int64_t out_width);

/// The size torchvision's `Resize(size)` gives a `height` x `width` image when `size` is one
/// number: the shorter side becomes `shorter`, the other keeps the aspect ratio (truncated).
std::pair<std::int64_t, std::int64_t> resized_shorter(std::int64_t height, std::int64_t width, std::int64_t shorter);

/// Pillow's bilinear resize of an HWC uint8 image (any channel count) to `height` x `width`.
/// `antialias=false` keeps the filter 1 pixel wide when shrinking (OpenCV's INTER_LINEAR-like);
/// true (the default) matches Pillow and torchvision on PIL images.
tensor resize(const tensor& image, std::int64_t height, std::int64_t width, bool antialias = true);

/// The pixels of `box` of an HWC image, as a new contiguous image.
tensor crop(const tensor& image, const crop_box& box);

/// Which crop `transform_image` makes.
enum class image_crop {
  none,            ///< the whole image (resized to height x width if they are set)
  center,          ///< torchvision `CenterCrop(height, width)` (after the resize, if any)
  random_resized,  ///< torchvision `RandomResizedCrop((height, width), scale, ratio)`
};

/// The layout of a transformed image.
enum class image_layout { hwc, chw };

/// A fused chain of image ops, applied to one encoded image by `transform_image`.
struct image_transform {
  image_mode mode = image_mode::rgb;  ///< decode to this mode (not `unchanged`)
  std::int64_t max_pixels = image_decode_options::default_max_pixels;  ///< as in decoding
  /// Resize first: to `resize_height` x `resize_width`; with only `resize_height` set, the
  /// shorter side becomes `resize_height` (torchvision `Resize(int)`); 0: no resize.
  std::int64_t resize_height = 0;
  std::int64_t resize_width = 0;  ///< see `resize_height`
  image_crop crop = image_crop::none;  ///< the crop (after the resize)
  std::int64_t height = 0;  ///< crop height (output rows); 0 with crop none
  std::int64_t width = 0;   ///< crop width (output columns)
  double scale_min = 0.08, scale_max = 1.0;           ///< random_resized: area fraction range
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  ///< random_resized: aspect ratio range
  bool antialias = true;                              ///< see `resize`
  /// Chance that the sample is mirrored left-right; the draw is `map_op::random_flip`'s, so the
  /// same seed flips the same samples whether the flip is fused or not.
  double flip_probability = 0.0;
  std::vector<double> mean;  ///< normalize: `(x - mean) / std` per channel (pixel units 0..255); empty: none
  std::vector<double> std;   ///< see `mean`
  image_layout layout = image_layout::hwc;  ///< of the output
  tb::dtype dtype = tb::dtype::uint8;       ///< of the output: uint8 (no normalize), float32, float16, bfloat16
  /// JPEG: decode at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling) when that still covers the
  /// output size. Faster on images at least twice the output size, but the DCT's downscale is
  /// not Pillow's filter: the result then differs from decode -> crop -> resize by tens of levels
  /// at sharp edges (up to 42 on photographs, 0.9 on average). Off (the default): within 1 LSB of
  /// the unfused ops. Measured on 500x375 JPEGs: RandomResizedCrop(112) 1.3x faster with it;
  /// RandomResizedCrop(224) never scales there (no crop is 448 pixels high).
  bool dct_scaling = false;
  /// Throws `tb::error` (value) for inconsistent fields.
  void validate() const;
  /// True if every output has the same shape (a resize to both sides or a crop is set).
  bool fixed_size() const noexcept;
  /// The output shape for a decoded image of `height` x `width` (per `layout`).
  shape_t output_shape(std::int64_t height, std::int64_t width) const;
  /// True if the transform draws random numbers (a random crop or flip).
  bool is_random() const noexcept;
};

/// Decodes `data` and applies `transform` with the per-sample `seed`, writing into `dst`
/// (C-contiguous, shape `transform.output_shape(...)`, dtype `transform.dtype`). Errors as
/// `decode_image`, naming `name`; a `dst` of another shape is a `tb::error` (value) saying so.
void transform_image_into(std::span<const std::byte> data, const image_transform& transform, std::uint64_t seed,
                          const tensor& dst, std::string_view name = "<bytes>");

/// `transform_image_into` a new tensor.
tensor transform_image(std::span<const std::byte> data, const image_transform& transform, std::uint64_t seed = 0,
                       std::string_view name = "<bytes>");

}  // namespace tb
