// WebP through libwebp (lossy, lossless, alpha); the demuxer finds the EXIF chunk. Animated WebP
// is refused by name.

#include <cstring>

#include <webp/decode.h>
#include <webp/demux.h>

#include "image/image_internal.hpp"

namespace tb::detail {

namespace {

WebPBitstreamFeatures features_of(std::span<const std::byte> data, std::string_view name) {
  WebPBitstreamFeatures f{};
  const VP8StatusCode rc = WebPGetFeatures(reinterpret_cast<const uint8_t*>(data.data()), data.size(), &f);
  if (rc == VP8_STATUS_NOT_ENOUGH_DATA)
    fail(error_kind::format, name, ": truncated WebP: the data ends inside its header; the file was cut short");
  if (rc != VP8_STATUS_OK) fail(error_kind::format, name, ": corrupt WebP: its header is invalid (libwebp status ", rc, ")");
  if (f.has_animation)
    fail(error_kind::format, name, ": unsupported WebP: animated (tensorbridge decodes still images only)");
  return f;
}

int orientation_of(std::span<const std::byte> data) {
  WebPData whole{reinterpret_cast<const uint8_t*>(data.data()), data.size()};
  WebPDemuxer* demux = WebPDemux(&whole);
  if (demux == nullptr) return 1;
  int orientation = 1;
  WebPChunkIterator it{};
  if (WebPDemuxGetChunk(demux, "EXIF", 1, &it)) {
    std::span<const std::byte> exif = std::as_bytes(std::span(it.chunk.bytes, it.chunk.size));
    // Some writers keep JPEG's "Exif\0\0" prefix.
    if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0) exif = exif.subspan(6);
    orientation = exif_orientation(exif);
    WebPDemuxReleaseChunkIterator(&it);
  }
  WebPDemuxDelete(demux);
  return orientation;
}

}  // namespace

image_info webp_info(std::span<const std::byte> data, std::string_view name) {
  const WebPBitstreamFeatures f = features_of(data, name);
  image_info info;
  info.format = image_format::webp;
  info.width = f.width;
  info.height = f.height;
  info.channels = f.has_alpha ? 4 : 3;
  info.orientation = orientation_of(data);
  return info;
}

tensor decode_webp(std::span<const std::byte> data, const image_decode_options& options, std::string_view name) {
  const WebPBitstreamFeatures f = features_of(data, name);
  check_image_size(f.width, f.height, options.max_pixels, "WebP", name);
  const bool alpha = options.mode == image_mode::rgba || (options.mode == image_mode::unchanged && f.has_alpha);
  tensor out = tensor::empty({f.height, f.width, alpha ? 4 : 3}, dtype::uint8);
  const auto* in = reinterpret_cast<const uint8_t*>(data.data());
  auto* px = static_cast<uint8_t*>(out.data());
  const int stride = f.width * (alpha ? 4 : 3);
  const uint8_t* ok = alpha ? WebPDecodeRGBAInto(in, data.size(), px, out.nbytes(), stride)
                            : WebPDecodeRGBInto(in, data.size(), px, out.nbytes(), stride);
  if (ok == nullptr)
    fail(error_kind::format, name, ": corrupt or truncated WebP: libwebp could not decode the ", f.width, "x",
         f.height, " image");
  return options.mode == image_mode::l ? convert_channels(out, image_mode::l) : out;
}

}  // namespace tb::detail
