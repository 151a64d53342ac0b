// tb::decode_image and tb::read_image: sniff the format, check the options, dispatch to the
// format's decoder, then apply the EXIF orientation if asked.

#include <cctype>
#include <cstring>
#include <string>

#include "image/image_internal.hpp"
#include "io/file_internal.hpp"

namespace tb {

namespace {

bool starts_with(std::span<const std::byte> data, std::size_t at, std::string_view magic) {
  return data.size() >= at + magic.size() && std::memcmp(data.data() + at, magic.data(), magic.size()) == 0;
}

// The name of a known but unsupported format, or nothing.
const char* unsupported_format(std::span<const std::byte> d) {
  if (starts_with(d, 0, "GIF87a") || starts_with(d, 0, "GIF89a")) return "GIF";
  if (starts_with(d, 0, std::string_view("II*\0", 4)) || starts_with(d, 0, std::string_view("MM\0*", 4))) return "TIFF";
  if (starts_with(d, 0, "BM")) return "BMP";
  if (starts_with(d, 4, "ftyp")) {
    if (starts_with(d, 8, "avif") || starts_with(d, 8, "avis")) return "AVIF";
    if (starts_with(d, 8, "hei") || starts_with(d, 8, "mif1") || starts_with(d, 8, "msf1")) return "HEIF";
    if (starts_with(d, 8, "jxl ")) return "JPEG XL";
  }
  if (starts_with(d, 0, "\xff\x0a") || starts_with(d, 4, "JXL ")) return "JPEG XL";
  if (starts_with(d, 0, "qoif")) return "QOI";
  return nullptr;
}

}  // namespace

const char* to_string(image_format format) noexcept {
  switch (format) {
    case image_format::jpeg: return "JPEG";
    case image_format::png: return "PNG";
    case image_format::webp: return "WebP";
  }
  return "?";
}

const char* to_string(image_mode mode) noexcept {
  switch (mode) {
    case image_mode::rgb: return "RGB";
    case image_mode::l: return "L";
    case image_mode::rgba: return "RGBA";
    case image_mode::unchanged: return "unchanged";
  }
  return "?";
}

image_mode image_mode_from_name(std::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "rgb") return image_mode::rgb;
  if (lower == "l" || lower == "gray" || lower == "grayscale") return image_mode::l;
  if (lower == "rgba") return image_mode::rgba;
  if (lower == "unchanged") return image_mode::unchanged;
  fail(error_kind::value, "unknown image mode \"", name, "\"; expected \"RGB\", \"L\", \"RGBA\" or \"unchanged\"");
}

void image_decode_options::validate() const {
  if (max_pixels < 0)
    fail(error_kind::value, "max_pixels must be >= 0 (0 lifts the limit), got ", max_pixels);
}

image_format sniff_image_format(std::span<const std::byte> data, std::string_view name) {
  if (data.empty()) fail(error_kind::format, name, ": empty file (0 bytes): not an image");
  if (starts_with(data, 0, "\xff\xd8\xff")) return image_format::jpeg;
  if (starts_with(data, 0, "\x89PNG\r\n\x1a\n")) return image_format::png;
  if (starts_with(data, 0, "RIFF") && starts_with(data, 8, "WEBP")) return image_format::webp;
  if (const char* known = unsupported_format(data))
    fail(error_kind::format, name, ": unsupported image format ", known,
         "; tensorbridge decodes JPEG, PNG and WebP (convert the file, e.g. with Pillow)");
  std::string head;
  for (std::size_t i = 0; i < data.size() && i < 8; ++i) {
    static constexpr char hex[] = "0123456789abcdef";
    const auto b = static_cast<unsigned>(data[i]);
    head += i ? " " : "";
    head += hex[b >> 4];
    head += hex[b & 15];
  }
  fail(error_kind::format, name, ": not a JPEG, PNG or WebP image (it starts with bytes ", head,
       "); tensorbridge decodes JPEG, PNG and WebP");
}

namespace detail {

void check_image_size(std::int64_t width, std::int64_t height, std::int64_t max_pixels, std::string_view format,
                      std::string_view name) {
  if (width <= 0 || height <= 0)
    fail(error_kind::format, name, ": corrupt ", format, ": it declares a ", width, "x", height, " image");
  if (max_pixels > 0 && width * height > max_pixels)
    fail(error_kind::format, name, ": the ", format, " declares ", width, "x", height, " = ", width * height,
         " pixels, more than max_pixels=", max_pixels,
         " (a decompression bomb?); raise max_pixels (0 lifts the limit) if the image is genuine");
}

}  // namespace detail

image_info read_image_info(std::span<const std::byte> data, std::string_view name) {
  switch (sniff_image_format(data, name)) {
    case image_format::jpeg: return detail::jpeg_info(data, name);
    case image_format::png: return detail::png_info(data, name);
    case image_format::webp: return detail::webp_info(data, name);
  }
  return {};
}

tensor decode_image(std::span<const std::byte> data, const image_decode_options& options, std::string_view name) {
  options.validate();
  const image_format format = sniff_image_format(data, name);
  tensor out;
  switch (format) {
    case image_format::jpeg: out = detail::decode_jpeg(data, options, name).pixels; break;
    case image_format::png: out = detail::decode_png(data, options, name); break;
    case image_format::webp: out = detail::decode_webp(data, options, name); break;
  }
  if (options.apply_exif_orientation) {
    const int orientation = read_image_info(data, name).orientation;
    if (orientation != 1) out = detail::apply_exif_orientation(out, orientation);
  }
  return out;
}

std::vector<std::byte> read_file_bytes(const std::string& path, const storage_options& storage) {
  const auto source = open_source(path, storage);
  std::vector<std::byte> bytes(static_cast<std::size_t>(source->size()));
  if (!bytes.empty()) source->read_at(bytes.data(), bytes.size(), 0);
  return bytes;
}

tensor read_image(const std::string& path, const image_decode_options& options) {
  const std::vector<std::byte> bytes = read_file_bytes(path);
  return decode_image(bytes, options, path);
}

}  // namespace tb
