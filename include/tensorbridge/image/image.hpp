#pragma once
/// @file image.hpp
/// Decoding JPEG, PNG and WebP images into HWC `tb::tensor`s (uint8, or uint16 for 16-bit PNG).
///
/// - The format is sniffed from the bytes, never from a file name. GIF, TIFF, BMP, AVIF/HEIF and
///   JPEG XL are recognised and refused by name (`tb::error`, format).
/// - JPEG through libjpeg-turbo (baseline, progressive, restart markers, any subsampling,
///   grayscale, RGB, CMYK and YCCK), PNG through libspng (every bit depth and color type, palette,
///   tRNS, CRCs checked), WebP through libwebp (lossy, lossless, alpha; not animated).
/// - Conversions between modes follow Pillow's `Image.convert` exactly, so pixels equal
///   `np.asarray(Image.open(f).convert(mode))` (for JPEG: with the same libjpeg-turbo IDCT).
///
/// Example:
/// ```
/// tb::tensor rgb = tb::read_image("cat.jpg");                       // (H, W, 3) uint8
/// tb::tensor gray = tb::read_image("cat.jpg", {.mode = tb::image_mode::l});  // (H, W, 1)
/// ```

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb {

/// The image formats tensorbridge decodes.
enum class image_format { jpeg, png, webp };

/// The name of a format: "JPEG", "PNG", "WebP".
const char* to_string(image_format format) noexcept;

/// The channels of a decoded image.
enum class image_mode {
  rgb,        ///< 3 channels, uint8 (16-bit PNGs keep their high byte, as Pillow does)
  l,          ///< 1 channel of luminance, uint8: Pillow's L = (19595 R + 38470 G + 7471 B + 32768) >> 16
  rgba,       ///< 4 channels, uint8; alpha 255 where the image has none (PNG tRNS applied)
  unchanged,  ///< the channels the file stores: 1 (gray), 2 (gray + alpha), 3, 4 (RGBA, or CMYK as
              ///< Pillow gives it: Adobe-inverted); uint16 for 16-bit PNGs; palettes expanded
};

/// Parses "RGB", "L", "RGBA" or "unchanged" (any case); throws `tb::error` (value) otherwise.
image_mode image_mode_from_name(std::string_view name);
/// The name of a mode: "RGB", "L", "RGBA", "unchanged".
const char* to_string(image_mode mode) noexcept;

/// Options of `decode_image` and `read_image`.
struct image_decode_options {
  /// Default of `max_pixels`: 178,956,970 pixels (twice Pillow's warning threshold, where Pillow
  /// refuses with `DecompressionBombError`); about 537 MB as RGB.
  static constexpr std::int64_t default_max_pixels = 178956970;

  image_mode mode = image_mode::rgb;  ///< the channels of the result
  /// Rotate/flip the pixels as the EXIF Orientation tag (JPEG APP1, PNG eXIf, WebP EXIF) says,
  /// as torchvision's `decode_image(apply_exif_orientation=True)` and Pillow's
  /// `ImageOps.exif_transpose` do. Off by default: the pixels as stored.
  bool apply_exif_orientation = false;
  /// The most pixels (width * height) an image may declare; a larger one is refused before any
  /// pixel memory is allocated (a decompression bomb). 0 lifts the limit.
  std::int64_t max_pixels = default_max_pixels;
  /// Throws `tb::error` (value) for a negative `max_pixels`.
  void validate() const;
};

/// What an image file declares, read from its header without decoding the pixels.
struct image_info {
  image_format format = image_format::jpeg;  ///< the sniffed format
  std::int64_t width = 0;                    ///< pixels per row as stored (before EXIF orientation)
  std::int64_t height = 0;                   ///< rows as stored
  std::int64_t channels = 0;                 ///< channels of mode "unchanged"
  int bit_depth = 8;                         ///< 8, or 16 for 16-bit PNGs (1/2/4-bit PNGs say 8)
  int orientation = 1;                       ///< the EXIF Orientation tag, 1..8 (1 when absent)
};

/// The format of `data` from its first bytes. Throws `tb::error` (format) naming `name`, what the
/// bytes look like (GIF, TIFF, BMP, AVIF/HEIF, JPEG XL, empty) and the supported formats.
image_format sniff_image_format(std::span<const std::byte> data, std::string_view name = "<bytes>");

/// The header of an encoded image (format, size, channels, EXIF orientation). Throws like
/// `decode_image`.
image_info read_image_info(std::span<const std::byte> data, std::string_view name = "<bytes>");

/// Decodes an encoded JPEG, PNG or WebP image into a new HWC tensor: shape (height, width,
/// channels), uint8 (uint16 for 16-bit PNGs in mode "unchanged"), C-contiguous.
///
/// - Errors are `tb::error` (format) naming `name` and what is wrong: an unsupported or unknown
///   format, a truncated or corrupt file, a PNG chunk whose CRC does not match, an animated
///   WebP, more pixels than `options.max_pixels`.
/// - Safe on any input: no crash and no leak, whatever the bytes.
tensor decode_image(std::span<const std::byte> data, const image_decode_options& options = {},
                    std::string_view name = "<bytes>");

/// Reads the file at `path` and decodes it as `decode_image` does. File problems are `tb::error`
/// with the kinds of every reader (not_found, permission, is_directory, io), naming `path`.
tensor read_image(const std::string& path, const image_decode_options& options = {});

/// The whole content of the file at `path` (errors as `read_image`), or of the remote object
/// `path` (`s3://`, `https://`) reached through `storage` (one request for an object up to 64 KiB,
/// parallel ranged requests beyond).
std::vector<std::byte> read_file_bytes(const std::string& path, const storage_options& storage = {});

}  // namespace tb
