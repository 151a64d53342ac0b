// libFuzzer target for image decoding (JPEG, PNG, WebP, EXIF), the full check of on_error="skip"
// and the fused image transform (with and without DCT scaling): any
// bytes must give an image or a tb::error, never a crash, a hang, a leak or a sanitizer report
// (libjpeg's error exits longjmp through tensorbridge's frames: this is where that is proven).

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensorbridge/image/check.hpp"
#include "tensorbridge/image/image.hpp"
#include "tensorbridge/image/ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const std::uint8_t last = size > 0 ? data[size - 1] : 0;
  tb::image_decode_options options;
  options.mode = static_cast<tb::image_mode>(last & 3);
  options.apply_exif_orientation = (last & 4) != 0;
  options.max_pixels = 1 << 20;  // keeps each run's memory small; the limit itself is under test
  try {
    (void)tb::read_image_info(bytes, "fuzz");
    (void)tb::decode_image(bytes, options, "fuzz");
  } catch (const tb::error&) {
  }
  try {
    tb::check_image(bytes, options, "fuzz");  // the full check of on_error="skip"
  } catch (const tb::error&) {
  }
  try {
    tb::image_transform t;
    t.dct_scaling = (size & 1) != 0;
    t.max_pixels = 1 << 20;
    t.crop = (last & 8) ? tb::image_crop::random_resized : tb::image_crop::center;
    t.height = 1 + (last >> 4);
    t.width = 1 + (last & 15);
    t.resize_height = (last & 8) ? 0 : 17;
    t.flip_probability = 0.5;
    t.dtype = tb::dtype::float32;
    t.layout = tb::image_layout::chw;
    (void)tb::transform_image(bytes, t, last, "fuzz");
  } catch (const tb::error&) {
  }
  return 0;
}
