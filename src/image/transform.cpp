// Crop boxes (torchvision's sampling), resize and crop of decoded images, and the fused
// decode -> crop -> resize -> flip -> normalize -> layout -> cast of one encoded image.

#include <algorithm>
#include <array>
#include <tuple>
#include <utility>
#include <cmath>
#include <cstring>

#include "image/image_internal.hpp"
#include "image/resample_internal.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/image/ops.hpp"

namespace tb {

namespace {

// splitmix64's finaliser, as the pipeline's mix64: the flip draw must equal map_op::random_flip's.
std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A stream of uniform draws from one sample seed.
class draw_stream {
 public:
  explicit draw_stream(std::uint64_t seed) : state_(mix(seed ^ 0x72727263726f70ull)) {}
  std::uint64_t next() noexcept { return mix(state_ += 0x9e3779b97f4a7c15ull); }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  // Uniform integer in [0, n).
  std::int64_t below(std::int64_t n) noexcept {
    return static_cast<std::int64_t>((static_cast<unsigned __int128>(next()) * static_cast<std::uint64_t>(n)) >> 64);
  }

 private:
  std::uint64_t state_;
};

bool flips(std::uint64_t seed, double probability) {
  const auto threshold = static_cast<std::uint64_t>(probability * 9007199254740992.0);
  return (mix(seed ^ 0x5eedf11bull) >> 11) < threshold;
}

std::int64_t round_half_even(double v) { return static_cast<std::int64_t>(std::nearbyint(v)); }

}  // namespace

crop_box random_resized_crop_box(std::int64_t height, std::int64_t width, std::uint64_t seed, double scale_min,
                                 double scale_max, double ratio_min, double ratio_max) {
  draw_stream draws(seed);
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(ratio_min), log_hi = std::log(ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * draws.uniform(scale_min, scale_max);
    const double aspect = std::exp(draws.uniform(log_lo, log_hi));
    const std::int64_t w = round_half_even(std::sqrt(target * aspect));
    const std::int64_t h = round_half_even(std::sqrt(target / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const std::int64_t top = draws.below(height - h + 1);
      const std::int64_t left = draws.below(width - w + 1);
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width, h = height;
  if (in_ratio < std::min(ratio_min, ratio_max)) {
    h = round_half_even(static_cast<double>(w) / std::min(ratio_min, ratio_max));
  } else if (in_ratio > std::max(ratio_min, ratio_max)) {
    w = round_half_even(static_cast<double>(h) * std::max(ratio_min, ratio_max));
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

crop_box center_crop_box(std::int64_t height, std::int64_t width, std::int64_t out_height, std::int64_t out_width) {
  if (out_height > height || out_width > width)
    fail(error_kind::value, "center_crop(", out_height, ", ", out_width, "): the image is only ", height, "x", width,
         "; resize it first (tb.ops.resize) to at least the crop size");
  return {round_half_even(static_cast<double>(height - out_height) / 2.0),
          round_half_even(static_cast<double>(width - out_width) / 2.0), out_height, out_width};
}

std::pair<std::int64_t, std::int64_t> resized_shorter(std::int64_t height, std::int64_t width, std::int64_t shorter) {
  if (height <= width) return {shorter, static_cast<std::int64_t>(static_cast<double>(shorter) * width / height)};
  return {static_cast<std::int64_t>(static_cast<double>(shorter) * height / width), shorter};
}

tensor crop(const tensor& image, const crop_box& box) {
  const std::int64_t h = image.shape()[0], w = image.shape()[1];
  if (box.top < 0 || box.left < 0 || box.height < 1 || box.width < 1 || box.top + box.height > h ||
      box.left + box.width > w)
    fail(error_kind::value, "crop: box top=", box.top, " left=", box.left, " height=", box.height, " width=", box.width,
         " is outside the ", h, "x", w, " image");
  const std::array<std::int64_t, 3> hwc{1, 0, 2};
  return image.slice(box.top, box.top + box.height).permute(hwc).slice(box.left, box.left + box.width).permute(hwc).copy();
}

tensor resize(const tensor& image, std::int64_t height, std::int64_t width, bool antialias) {
  if (image.ndim() != 3 || image.dtype() != dtype::uint8)
    fail(error_kind::type, "resize: expected an HWC uint8 image, got ", image.describe());
  if (height < 1 || width < 1) fail(error_kind::value, "resize: the size must be at least 1x1, got ", height, "x", width);
  const tensor src = image.contiguous();
  const std::int64_t h = src.shape()[0], w = src.shape()[1], c = src.shape()[2];
  tensor out = tensor::empty({height, width, c}, dtype::uint8);
  const auto x = detail::bilinear_axis(w, 0.0f, static_cast<float>(w), width, 0, width, antialias);
  const auto y = detail::bilinear_axis(h, 0.0f, static_cast<float>(h), height, 0, height, antialias);
  detail::resample(static_cast<const std::uint8_t*>(src.data()), w * c, c, x, y, static_cast<std::uint8_t*>(out.data()));
  return out;
}

void image_transform::validate() const {
  if (mode == image_mode::unchanged) fail(error_kind::value, "image ops need mode RGB, L or RGBA, not unchanged");
  if (max_pixels < 0) fail(error_kind::value, "max_pixels must be >= 0, got ", max_pixels);
  if (resize_height < 0 || resize_width < 0 || (resize_width > 0 && resize_height == 0))
    fail(error_kind::value, "resize: expected a size >= 1 (one number: the shorter side), got ", resize_height, "x",
         resize_width);
  if (crop != image_crop::none && (height < 1 || width < 1))
    fail(error_kind::value, "crop: expected a size >= 1, got ", height, "x", width);
  if (crop == image_crop::random_resized &&
      !(scale_min > 0 && scale_min <= scale_max && scale_max <= 1 && ratio_min > 0 && ratio_min <= ratio_max))
    fail(error_kind::value, "random_resized_crop: expected 0 < scale[0] <= scale[1] <= 1 and 0 < ratio[0] <= ratio[1], got scale=(",
         scale_min, ", ", scale_max, ") ratio=(", ratio_min, ", ", ratio_max, ")");
  if (!(flip_probability >= 0 && flip_probability <= 1))
    fail(error_kind::value, "random_flip: probability must be in [0, 1], got ", flip_probability);
  if (mean.size() != std.size())
    fail(error_kind::value, "normalize: mean and std need the same length, got ", mean.size(), " and ", std.size());
  for (double s : std)
    if (s == 0) fail(error_kind::value, "normalize: std must be non-zero");
  if (dtype != dtype::uint8 && dtype != dtype::float32 && dtype != dtype::float16 && dtype != dtype::bfloat16)
    fail(error_kind::type, "image ops output uint8, float32, float16 or bfloat16, not ", name(dtype));
  if (dtype == dtype::uint8 && !mean.empty())
    fail(error_kind::value, "normalize needs a floating output dtype (float32, float16, bfloat16), not uint8");
}

bool image_transform::fixed_size() const noexcept {
  return crop != image_crop::none || (resize_height > 0 && resize_width > 0);
}

bool image_transform::is_random() const noexcept {
  return crop == image_crop::random_resized || flip_probability > 0;
}

namespace {

std::int64_t mode_channels(image_mode mode) { return mode == image_mode::l ? 1 : mode == image_mode::rgba ? 4 : 3; }

// The geometry of one sample: the output size, the resampling box in decoded-image pixels and
// the rectangle pixels are clamped to (the crop for random_resized, else the resized image).
struct geometry {
  std::int64_t out_h = 0, out_w = 0;          // the output
  std::int64_t full_h = 0, full_w = 0;        // the resized image the output is a window of
  std::int64_t win_top = 0, win_left = 0;     // the window of it
  double box_x0 = 0, box_y0 = 0, box_x1 = 0, box_y1 = 0;  // the source box that maps to full
  std::int64_t clamp_x0 = 0, clamp_y0 = 0, clamp_x1 = 0, clamp_y1 = 0;  // source pixels usable
};

geometry plan(const image_transform& t, std::int64_t h, std::int64_t w, std::uint64_t seed) {
  geometry g;
  if (t.crop == image_crop::random_resized) {
    std::int64_t sh = h, sw = w;  // after the resize, if any
    if (t.resize_height > 0) {
      std::tie(sh, sw) = t.resize_width > 0 ? std::pair{t.resize_height, t.resize_width} : resized_shorter(h, w, t.resize_height);
      if (sh != h || sw != w)
        fail(error_kind::value, "random_resized_crop after resize is not supported; random_resized_crop resizes itself");
    }
    const crop_box b = random_resized_crop_box(h, w, seed, t.scale_min, t.scale_max, t.ratio_min, t.ratio_max);
    g.out_h = g.full_h = t.height;
    g.out_w = g.full_w = t.width;
    g.box_x0 = static_cast<double>(b.left);
    g.box_y0 = static_cast<double>(b.top);
    g.box_x1 = static_cast<double>(b.left + b.width);
    g.box_y1 = static_cast<double>(b.top + b.height);
    g.clamp_x0 = b.left;
    g.clamp_y0 = b.top;
    g.clamp_x1 = b.left + b.width;
    g.clamp_y1 = b.top + b.height;
    return g;
  }
  g.full_h = h;
  g.full_w = w;
  if (t.resize_height > 0)
    std::tie(g.full_h, g.full_w) =
        t.resize_width > 0 ? std::pair{t.resize_height, t.resize_width} : resized_shorter(h, w, t.resize_height);
  g.box_x1 = static_cast<double>(w);
  g.box_y1 = static_cast<double>(h);
  g.clamp_x1 = w;
  g.clamp_y1 = h;
  g.out_h = g.full_h;
  g.out_w = g.full_w;
  if (t.crop == image_crop::center) {
    const crop_box b = center_crop_box(g.full_h, g.full_w, t.height, t.width);
    g.win_top = b.top;
    g.win_left = b.left;
    g.out_h = t.height;
    g.out_w = t.width;
  }
  return g;
}

// The output pixels (HWC uint8) -> flip, normalize, layout, dtype into dst.
void finish(const std::uint8_t* px, std::int64_t oh, std::int64_t ow, std::int64_t c, const image_transform& t,
            bool flip, const tensor& dst) {
  const bool chw = t.layout == image_layout::chw;
  if (t.dtype == dtype::uint8) {
    auto* d = static_cast<std::uint8_t*>(dst.data());
    for (std::int64_t y = 0; y < oh; ++y)
      for (std::int64_t x = 0; x < ow; ++x) {
        const std::uint8_t* s = px + (y * ow + (flip ? ow - 1 - x : x)) * c;
        for (std::int64_t k = 0; k < c; ++k) d[chw ? (k * oh + y) * ow + x : (y * ow + x) * c + k] = s[k];
      }
    return;
  }
  // float32, as map_op::normalize computes it: (x - mean) * (1 / std) in float.
  std::vector<float> mean(static_cast<std::size_t>(c), 0.0f), inv(static_cast<std::size_t>(c), 1.0f);
  for (std::int64_t k = 0; k < c && !t.mean.empty(); ++k) {
    const std::size_t j = t.mean.size() == 1 ? 0 : static_cast<std::size_t>(k);
    mean[static_cast<std::size_t>(k)] = static_cast<float>(t.mean[j]);
    inv[static_cast<std::size_t>(k)] = static_cast<float>(1.0 / t.std[j]);
  }
  tensor f32 = t.dtype == dtype::float32 ? dst : tensor::empty(dst.shape(), dtype::float32);
  auto* d = static_cast<float*>(f32.data());
  for (std::int64_t y = 0; y < oh; ++y)
    for (std::int64_t x = 0; x < ow; ++x) {
      const std::uint8_t* s = px + (y * ow + (flip ? ow - 1 - x : x)) * c;
      for (std::int64_t k = 0; k < c; ++k) {
        const float v = (static_cast<float>(s[k]) - mean[static_cast<std::size_t>(k)]) * inv[static_cast<std::size_t>(k)];
        d[chw ? (k * oh + y) * ow + x : (y * ow + x) * c + k] = v;
      }
    }
  if (t.dtype != dtype::float32) cast_into(f32, dst);
}

}  // namespace

shape_t image_transform::output_shape(std::int64_t h, std::int64_t w) const {
  const geometry g = plan(*this, h, w, 0);
  const std::int64_t c = mode_channels(mode);
  return layout == image_layout::chw ? shape_t{c, g.out_h, g.out_w} : shape_t{g.out_h, g.out_w, c};
}

void transform_image_into(std::span<const std::byte> data, const image_transform& t, std::uint64_t seed,
                          const tensor& dst, std::string_view name) {
  t.validate();
  const image_format format = sniff_image_format(data, name);
  const image_info info = read_image_info(data, name);
  // Before anything is sized by the declared dimensions (the resampling axes too).
  detail::check_image_size(info.width, info.height, t.max_pixels, to_string(format), name);
  const geometry g = plan(t, info.height, info.width, seed);
  const std::int64_t c = mode_channels(t.mode);
  const shape_t want = t.layout == image_layout::chw ? shape_t{c, g.out_h, g.out_w} : shape_t{g.out_h, g.out_w, c};
  if (dst.shape() != want || dst.dtype() != t.dtype || !dst.is_contiguous())
    fail(error_kind::value, name, ": the ", info.width, "x", info.height, " image transforms to shape ",
         tensor::empty(want, t.dtype).describe(), ", but its destination is ", dst.describe(),
         "; images of different sizes batch only after an op that fixes the size: add "
         "tb.ops.resize((h, w)), tb.ops.center_crop(size) or tb.ops.random_resized_crop(size)");

  // The DCT scale (k/8) that keeps the source box at least as large as the resized output.
  int num = 8;
  const double bw = g.box_x1 - g.box_x0, bh = g.box_y1 - g.box_y0;
  if (format == image_format::jpeg && t.dct_scaling) {
    // Only 1/8, 1/4 and 1/2 have libjpeg-turbo's SIMD IDCTs; 3/8, 5/8... are slower than a full decode.
    for (int n : {1, 2, 4})
      if (bw * n / 8.0 >= static_cast<double>(g.full_w) && bh * n / 8.0 >= static_cast<double>(g.full_h)) {
        num = n;
        break;
      }
  }
  const double s = num / 8.0;
  // In decoded (scaled) pixels: the clamp rectangle, the box within it, the window's axes.
  const auto sc_floor = [s](std::int64_t v) { return static_cast<std::int64_t>(std::floor(static_cast<double>(v) * s)); };
  const auto sc_ceil = [s](std::int64_t v) { return static_cast<std::int64_t>(std::ceil(static_cast<double>(v) * s)); };
  const std::int64_t scaled_w = (info.width * num + 7) / 8, scaled_h = (info.height * num + 7) / 8;
  const std::int64_t cx0 = sc_floor(g.clamp_x0), cy0 = sc_floor(g.clamp_y0);
  const std::int64_t cx1 = std::min(sc_ceil(g.clamp_x1), scaled_w), cy1 = std::min(sc_ceil(g.clamp_y1), scaled_h);
  const auto in0x = static_cast<float>(g.box_x0 * s - static_cast<double>(cx0));
  const auto in1x = static_cast<float>(g.box_x1 * s - static_cast<double>(cx0));
  const auto in0y = static_cast<float>(g.box_y0 * s - static_cast<double>(cy0));
  const auto in1y = static_cast<float>(g.box_y1 * s - static_cast<double>(cy0));
  const auto ax = detail::bilinear_axis(cx1 - cx0, in0x, in1x, g.full_w, g.win_left, g.out_w, t.antialias);
  const auto ay = detail::bilinear_axis(cy1 - cy0, in0y, in1y, g.full_h, g.win_top, g.out_h, t.antialias);
  // The source pixels the window reads, relative to the clamp origin.
  std::int64_t rx0 = cx1 - cx0, rx1 = 0, ry0 = cy1 - cy0, ry1 = 0;
  for (std::size_t i = 0; i < ax.first.size(); ++i) {
    rx0 = std::min<std::int64_t>(rx0, ax.first[i]);
    rx1 = std::max<std::int64_t>(rx1, ax.first[i] + std::max(ax.count[i], 1));
  }
  for (std::size_t i = 0; i < ay.first.size(); ++i) {
    ry0 = std::min<std::int64_t>(ry0, ay.first[i]);
    ry1 = std::max<std::int64_t>(ry1, ay.first[i] + std::max(ay.count[i], 1));
  }
  if (ax.identity) rx1 = std::max<std::int64_t>(rx1, ax.first.back() + 1);
  if (ay.identity) ry1 = std::max<std::int64_t>(ry1, ay.first.back() + 1);

  tensor pixels;
  std::int64_t origin_x = 0, origin_y = 0;  // decoded position of pixels(0, 0), in scaled pixels
  if (format == image_format::jpeg) {
    detail::jpeg_region_request req;
    // Back to stored pixels: the region decode scales it again by num / 8. A margin of one
    // iMCU (16 stored pixels) on every side keeps libjpeg's edge handling of a cropped decode
    // (chroma upsampling replicates the region's border) out of the pixels read.
    constexpr std::int64_t margin = 16;
    req.x = std::max<std::int64_t>((cx0 + rx0) * 8 / num - margin, 0);
    req.y = std::max<std::int64_t>((cy0 + ry0) * 8 / num - margin, 0);
    req.width = std::min<std::int64_t>(((cx0 + rx1) * 8 + num - 1) / num + margin, info.width) - req.x;
    req.height = std::min<std::int64_t>(((cy0 + ry1) * 8 + num - 1) / num + margin, info.height) - req.y;
    req.scale_num = num;
    image_decode_options o;
    o.mode = t.mode;
    o.max_pixels = t.max_pixels;
    detail::jpeg_region r = detail::decode_jpeg(data, o, name, req);
    pixels = r.pixels;
    origin_x = r.x0;
    origin_y = r.y0;
  } else {
    image_decode_options o;
    o.mode = t.mode;
    o.max_pixels = t.max_pixels;
    pixels = decode_image(data, o, name);
  }
  const std::int64_t pw = pixels.shape()[1];
  const auto* base = static_cast<const std::uint8_t*>(pixels.data());
  // Pointer to the clamp origin (may lie before the decoded rows/columns that are never read).
  const std::int64_t dx = cx0 - origin_x, dy = cy0 - origin_y;
  if (cx0 + rx0 < origin_x || cy0 + ry0 < origin_y || cx0 + rx1 > origin_x + pw || cy0 + ry1 > origin_y + pixels.shape()[0])
    fail(error_kind::value, name, ": internal error: the decoded region does not cover the crop");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(g.out_h * g.out_w * c));
  const std::uint8_t* clamp_origin = base + (dy * pw + dx) * c;
  detail::resample(clamp_origin, pw * c, c, ax, ay, out.data());
  finish(out.data(), g.out_h, g.out_w, c, t, t.flip_probability > 0 && flips(seed, t.flip_probability), dst);
}

tensor transform_image(std::span<const std::byte> data, const image_transform& t, std::uint64_t seed,
                       std::string_view name) {
  t.validate();
  const image_info info = read_image_info(data, name);
  tensor out = tensor::empty(t.output_shape(info.height, info.width), t.dtype);
  transform_image_into(data, t, seed, out, name);
  return out;
}

}  // namespace tb
