// PNG through libspng: every bit depth and color type, CRCs checked (a mismatch is an error, as
// in Pillow), tRNS applied for RGBA, eXIf for the orientation.

#include <cstring>
#include <memory>

#include <spng.h>
#include <zlib.h>

#include "image/image_internal.hpp"

namespace tb::detail {

namespace {

struct ctx_deleter {
  void operator()(spng_ctx* c) const noexcept { spng_ctx_free(c); }
};
using ctx_ptr = std::unique_ptr<spng_ctx, ctx_deleter>;

[[noreturn]] void fail_png(int rc, std::string_view name) {
  const char* what = spng_strerror(rc);
  if (rc == SPNG_EIO || rc == SPNG_EOF || rc == SPNG_EIDAT_TOO_SHORT)
    fail(error_kind::format, name, ": truncated PNG: the data ends before the image does (", what,
         "); the file was cut short, download or copy it again");
  if (rc == SPNG_ECHUNK_CRC)
    fail(error_kind::format, name, ": corrupt PNG: a chunk's CRC does not match its content (", what,
         "); the file is damaged");
  fail(error_kind::format, name, ": corrupt PNG: ", what);
}

struct opened {
  ctx_ptr ctx;
  spng_ihdr ihdr{};
};

std::uint32_t be32(const std::byte* p) {
  const auto* u = reinterpret_cast<const std::uint8_t*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
}

// Checks every chunk's CRC before any decoding (as Pillow does), so that a damaged chunk is
// reported as such rather than as the zlib or filter error its damage may cause first.
void check_crcs(std::span<const std::byte> data, std::string_view name) {
  std::size_t at = 8;
  while (at + 12 <= data.size()) {
    const std::uint32_t length = be32(data.data() + at);
    if (length > data.size() - at - 12) return;  // truncated: spng reports it
    const std::byte* type = data.data() + at + 4;
    const auto computed = static_cast<std::uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(type), static_cast<uInt>(length + 4)));
    const std::uint32_t stored = be32(type + 4 + length);
    if (computed != stored)
      fail(error_kind::format, name, ": corrupt PNG: the CRC of chunk ", std::string_view(reinterpret_cast<const char*>(type), 4),
           " at byte offset ", at, " does not match its content (stored 0x", std::hex, stored, ", computed 0x",
           computed, std::dec, "); the file is damaged");
    if (std::memcmp(type, "IEND", 4) == 0) return;
    at += std::size_t{length} + 12;
  }
}

opened open_png(std::span<const std::byte> data, std::string_view name) {
  check_crcs(data, name);
  opened o;
  o.ctx.reset(spng_ctx_new(0));
  if (!o.ctx) fail(error_kind::io, name, ": out of memory starting the PNG decoder");
  spng_ctx* c = o.ctx.get();
  // Ancillary chunks with bad CRCs are errors too (the default skips them silently).
  spng_set_crc_action(c, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
  spng_set_chunk_limits(c, 64u << 20, 64u << 20);
  int rc = spng_set_png_buffer(c, data.data(), data.size());
  if (rc == 0) rc = spng_get_ihdr(c, &o.ihdr);
  if (rc != 0) fail_png(rc, name);
  return o;
}

int png_channels(const spng_ihdr& h, bool has_trns) {
  switch (h.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE: return 1;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
    case SPNG_COLOR_TYPE_INDEXED: return has_trns ? 4 : 3;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return 4;
    default: return 3;
  }
}

bool has_trns(spng_ctx* c) {
  spng_trns trns{};
  return spng_get_trns(c, &trns) == 0;
}

int orientation_of(spng_ctx* c) {
  spng_exif exif{};
  if (spng_get_exif(c, &exif) != 0 || exif.data == nullptr) return 1;
  return exif_orientation(std::as_bytes(std::span(exif.data, exif.length)));
}

}  // namespace

image_info png_info(std::span<const std::byte> data, std::string_view name) {
  opened o = open_png(data, name);
  image_info info;
  info.format = image_format::png;
  info.width = o.ihdr.width;
  info.height = o.ihdr.height;
  info.channels = png_channels(o.ihdr, has_trns(o.ctx.get()));
  info.bit_depth = o.ihdr.bit_depth == 16 ? 16 : 8;
  info.orientation = orientation_of(o.ctx.get());
  return info;
}

tensor decode_png(std::span<const std::byte> data, const image_decode_options& options, std::string_view name) {
  opened o = open_png(data, name);
  spng_ctx* c = o.ctx.get();
  const spng_ihdr& h = o.ihdr;
  check_image_size(h.width, h.height, options.max_pixels, "PNG", name);
  const bool gray = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE || h.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  const bool deep = h.bit_depth == 16;

  // The spng format that gives the result directly, then what is left to convert.
  int fmt = SPNG_FMT_RGB8;
  int flags = 0;
  std::int64_t channels = 3;
  dtype type = dtype::uint8;
  bool high_byte = false;  // 16-bit samples to keep the high byte of (spng has no G8 for 16-bit)
  image_mode after = image_mode::unchanged;
  switch (options.mode) {
    case image_mode::unchanged:
      channels = png_channels(h, has_trns(c));
      if (h.color_type == SPNG_COLOR_TYPE_INDEXED) {
        fmt = channels == 4 ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
        flags = channels == 4 ? SPNG_DECODE_TRNS : 0;
      } else if (deep) {
        type = dtype::uint16;
        fmt = channels == 4 ? SPNG_FMT_RGBA16 : channels == 2 ? SPNG_FMT_GA16 : SPNG_FMT_PNG;
      } else {
        fmt = channels == 1 ? SPNG_FMT_G8 : channels == 2 ? SPNG_FMT_GA8 : channels == 4 ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
      }
      break;
    case image_mode::rgb: break;
    case image_mode::rgba:
      fmt = SPNG_FMT_RGBA8;
      flags = SPNG_DECODE_TRNS;
      channels = 4;
      break;
    case image_mode::l:
      if (gray && !deep) {
        fmt = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE ? SPNG_FMT_G8 : SPNG_FMT_GA8;
        channels = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE ? 1 : 2;
      } else if (gray) {
        fmt = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE ? SPNG_FMT_PNG : SPNG_FMT_GA16;
        channels = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE ? 1 : 2;
        type = dtype::uint16;
        high_byte = true;
      }
      after = image_mode::l;
      break;
  }
  // spng 0.7 has no GA8/GA16 output for gray + alpha images: decode RGBA and keep G and A.
  const bool ga = h.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA && channels == 2;
  if (ga) {
    fmt = type == dtype::uint16 ? SPNG_FMT_RGBA16 : SPNG_FMT_RGBA8;
    channels = 4;
  }
  std::size_t size = 0;
  int rc = spng_decoded_image_size(c, fmt, &size);
  if (rc != 0) fail_png(rc, name);
  tensor out = tensor::empty({static_cast<std::int64_t>(h.height), static_cast<std::int64_t>(h.width), channels}, type);
  if (size != out.nbytes())
    fail(error_kind::format, name, ": unsupported PNG: ", static_cast<int>(h.bit_depth), "-bit color type ",
         static_cast<int>(h.color_type), " in mode ", to_string(options.mode));
  rc = spng_decode_image(c, out.data(), size, fmt, flags);
  if (rc != 0) fail_png(rc, name);
  if (ga) {
    tensor two = tensor::empty({out.shape()[0], out.shape()[1], 2}, type);
    const std::size_t item = out.itemsize();
    const auto* s = static_cast<const std::byte*>(out.data());
    auto* d = static_cast<std::byte*>(two.data());
    for (std::int64_t i = 0, n = out.shape()[0] * out.shape()[1]; i < n; ++i, s += 4 * item, d += 2 * item) {
      std::memcpy(d, s, item);
      std::memcpy(d + item, s + 3 * item, item);
    }
    out = two;
  }
  if (high_byte) {
    tensor narrow = tensor::empty(out.shape(), dtype::uint8);
    const auto* s = static_cast<const std::uint16_t*>(out.data());
    auto* d = static_cast<std::uint8_t*>(narrow.data());
    for (std::int64_t i = 0, n = out.numel(); i < n; ++i) d[i] = static_cast<std::uint8_t>(s[i] >> 8);
    out = narrow;
  }
  return convert_channels(out, after);
}

}  // namespace tb::detail
