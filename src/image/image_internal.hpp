#pragma once
// The format decoders behind tb::decode_image, and the helpers they share. Each decoder returns
// the pixels in the requested mode, as Pillow's Image.convert would give them.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "tensorbridge/image/image.hpp"

namespace tb::detail {

/// Throws tb::error (format) if `width` x `height` exceeds `max_pixels` (0: no limit) or either is 0.
void check_image_size(std::int64_t width, std::int64_t height, std::int64_t max_pixels, std::string_view format,
                      std::string_view name);

/// A JPEG decode restricted to a region and scaled by libjpeg's DCT scaling.
struct jpeg_region_request {
  std::int64_t x = 0, y = 0, width = 0, height = 0;  ///< region in stored pixels; width 0: whole image
  int scale_num = 8;  ///< decode at scale_num / 8 (1..8) with libjpeg's DCT scaling
};

/// The pixels of a region decode: rows [y0, y0 + rows) and columns [x0, x0 + cols) of the image
/// scaled by scale_num / 8 (x0 may start left of the region: libjpeg crops at iMCU boundaries).
struct jpeg_region {
  tensor pixels;        ///< (rows, cols, channels) uint8 in the requested mode
  int scale_num = 8;    ///< the image was scaled by scale_num / 8
  std::int64_t x0 = 0;  ///< first column, in scaled pixels
  std::int64_t y0 = 0;  ///< first row, in scaled pixels
};

/// Decodes a JPEG (whole, or the region of `request`); `options.mode` must not be `unchanged` for
/// a region. EXIF orientation is never applied here.
jpeg_region decode_jpeg(std::span<const std::byte> data, const image_decode_options& options, std::string_view name,
                        const jpeg_region_request& request = {});
/// Decodes every block of a JPEG as cheaply as libjpeg can (1/8 scale) and reads on to its end,
/// throwing what `decode_jpeg` would for damaged, truncated or oversized data.
void check_jpeg(std::span<const std::byte> data, const image_decode_options& options, std::string_view name);
/// The header of a JPEG.
image_info jpeg_info(std::span<const std::byte> data, std::string_view name);

/// Decodes a PNG (EXIF orientation not applied).
tensor decode_png(std::span<const std::byte> data, const image_decode_options& options, std::string_view name);
/// The header of a PNG.
image_info png_info(std::span<const std::byte> data, std::string_view name);

/// Decodes a WebP (EXIF orientation not applied).
tensor decode_webp(std::span<const std::byte> data, const image_decode_options& options, std::string_view name);
/// The header of a WebP.
image_info webp_info(std::span<const std::byte> data, std::string_view name);

/// The Orientation tag (1..8) of an EXIF block that starts with the TIFF header ("II*\0" or
/// "MM\0*"); 1 when absent or unreadable (a broken EXIF block never fails a decode).
int exif_orientation(std::span<const std::byte> tiff);

/// `image` (HWC) turned upright for EXIF orientation `orientation` (2..8; 1 returns it as is).
tensor apply_exif_orientation(const tensor& image, int orientation);

/// Converts an HWC uint8 image of 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) channels to `mode` with
/// Pillow's formulas; `unchanged` returns it as is.
tensor convert_channels(const tensor& image, image_mode mode);

/// Pillow's CMYK -> RGB (after Adobe inversion), in place of the 4 channels of `cmyk` rows, as an
/// RGB image; `raw_cmyk` holds libjpeg's (non-inverted, Adobe convention) samples.
tensor cmyk_to_rgb(const tensor& raw_cmyk);

/// Pillow's luminance of one RGB pixel.
inline std::uint8_t luminance(std::uint32_t r, std::uint32_t g, std::uint32_t b) noexcept {
  return static_cast<std::uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

}  // namespace tb::detail
