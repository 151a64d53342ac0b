// The EXIF Orientation tag and the transposition it asks for (as Pillow's ImageOps.exif_transpose).

#include <array>
#include <cstring>

#include "image/image_internal.hpp"

namespace tb::detail {

namespace {

// `t` reversed along `axis`, as a view.
tensor flip(const tensor& t, std::size_t axis) {
  std::array<std::int64_t, 3> order{0, 1, 2};
  std::swap(order[0], order[axis]);
  const std::int64_t n = t.shape()[axis];
  return t.permute(order).slice(n - 1, -n - 1, -1).permute(order);
}

tensor transpose_hw(const tensor& t) {
  const std::array<std::int64_t, 3> order{1, 0, 2};
  return t.permute(order);
}

}  // namespace

int exif_orientation(std::span<const std::byte> tiff) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(tiff.data());
  const std::size_t n = tiff.size();
  if (n < 8) return 1;
  const bool little = p[0] == 'I' && p[1] == 'I';
  if (!little && !(p[0] == 'M' && p[1] == 'M')) return 1;
  auto u16 = [&](std::size_t at) -> std::uint32_t {
    return little ? p[at] | (p[at + 1] << 8) : (p[at] << 8) | p[at + 1];
  };
  auto u32 = [&](std::size_t at) -> std::uint64_t {
    return little ? (std::uint64_t{u16(at + 2)} << 16) | u16(at) : (std::uint64_t{u16(at)} << 16) | u16(at + 2);
  };
  if (u16(2) != 42) return 1;
  const std::uint64_t ifd = u32(4);
  if (ifd + 2 > n) return 1;
  const std::uint32_t entries = u16(static_cast<std::size_t>(ifd));
  for (std::uint32_t i = 0; i < entries; ++i) {
    const std::uint64_t at = ifd + 2 + std::uint64_t{i} * 12;
    if (at + 12 > n) return 1;
    const auto e = static_cast<std::size_t>(at);
    if (u16(e) == 0x0112 && u16(e + 2) == 3) {  // Orientation, SHORT
      const std::uint32_t v = u16(e + 8);
      return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
    }
  }
  return 1;
}

tensor apply_exif_orientation(const tensor& image, int orientation) {
  switch (orientation) {
    case 2: return flip(image, 1).copy();
    case 3: return flip(flip(image, 0), 1).copy();
    case 4: return flip(image, 0).copy();
    case 5: return transpose_hw(image).copy();
    case 6: return transpose_hw(flip(image, 0)).copy();
    case 7: return transpose_hw(flip(flip(image, 0), 1)).copy();
    case 8: return transpose_hw(flip(image, 1)).copy();
    default: return image;
  }
}

}  // namespace tb::detail
