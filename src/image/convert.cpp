// Mode conversions with Pillow's formulas (Convert.c), so that decoded pixels equal
// np.asarray(Image.open(f).convert(mode)).

#include <cstring>

#include "image/image_internal.hpp"

namespace tb::detail {

namespace {

std::int64_t channels_of(image_mode mode) {
  switch (mode) {
    case image_mode::l: return 1;
    case image_mode::rgb: return 3;
    case image_mode::rgba: return 4;
    case image_mode::unchanged: break;
  }
  return 0;
}

}  // namespace

tensor convert_channels(const tensor& image, image_mode mode) {
  const std::int64_t from = image.shape()[2];
  const std::int64_t to = channels_of(mode);
  if (mode == image_mode::unchanged || from == to) return image;
  const std::int64_t pixels = image.shape()[0] * image.shape()[1];
  tensor out = tensor::empty({image.shape()[0], image.shape()[1], to}, dtype::uint8);
  const auto* s = static_cast<const std::uint8_t*>(image.data());
  auto* d = static_cast<std::uint8_t*>(out.data());
  for (std::int64_t i = 0; i < pixels; ++i, s += from, d += to) {
    const bool gray = from <= 2;  // L or LA
    const std::uint8_t r = s[0], g = gray ? s[0] : s[1], b = gray ? s[0] : s[2];
    const std::uint8_t a = from == 2 ? s[1] : from == 4 ? s[3] : 255;
    if (to == 1) {
      d[0] = gray ? r : luminance(r, g, b);
    } else {
      d[0] = r;
      d[1] = g;
      d[2] = b;
      if (to == 4) d[3] = a;
    }
  }
  return out;
}

tensor cmyk_to_rgb(const tensor& raw_cmyk) {
  const std::int64_t pixels = raw_cmyk.shape()[0] * raw_cmyk.shape()[1];
  tensor out = tensor::empty({raw_cmyk.shape()[0], raw_cmyk.shape()[1], 3}, dtype::uint8);
  const auto* s = static_cast<const std::uint8_t*>(raw_cmyk.data());
  auto* d = static_cast<std::uint8_t*>(out.data());
  // Pillow reads Adobe CMYK inverted ("CMYK;I"), then cmyk2rgb: nk - c * nk / 255, with its
  // MULDIV255 rounding; the inversions cancel into this form on libjpeg's samples.
  auto muldiv255 = [](int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (std::int64_t i = 0; i < pixels; ++i, s += 4, d += 3) {
    const int nk = s[3];  // 255 - (255 - k)
    for (int c = 0; c < 3; ++c) {
      const int v = nk - muldiv255(255 - s[c], nk);
      d[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  return out;
}

}  // namespace tb::detail
