// tb::decode_image, the image ops and the image-file data set, on images encoded here with the
// same libraries' encoders (libjpeg, libspng, libwebp): pixels, modes, bad input (ASan checks that
// the libjpeg error path leaks nothing), fused == unfused, determinism for any thread count.

#include <gtest/gtest.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "image/image_internal.hpp"
#include "tensorbridge/pipeline/dataset.hpp"
#include "tensorbridge/image/image.hpp"
#include "tensorbridge/image/ops.hpp"

namespace {

using tb::testing_files::temp_path;
using tb::testing_files::write_file;
using bytes = std::vector<std::byte>;

// A smooth RGB test pattern (JPEG-friendly).
std::vector<std::uint8_t> pattern(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      auto* p = &px[static_cast<std::size_t>((y * w + x) * 3)];
      p[0] = static_cast<std::uint8_t>(x * 255 / w);
      p[1] = static_cast<std::uint8_t>(y * 255 / h);
      p[2] = static_cast<std::uint8_t>((x + y) * 127 / (w + h));
    }
  return px;
}

bytes encode_jpeg(const std::vector<std::uint8_t>& px, int w, int h, bool progressive = false) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    auto* row = const_cast<JSAMPROW>(&px[static_cast<std::size_t>(c.next_scanline) * static_cast<std::size_t>(w) * 3]);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  bytes b(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + size);
  std::free(out);
  return b;
}

bytes encode_png(const void* px, std::size_t n, int w, int h, std::uint8_t color_type, std::uint8_t depth) {
  spng_ctx* c = spng_ctx_new(SPNG_CTX_ENCODER);
  spng_set_option(c, SPNG_ENCODE_TO_BUFFER, 1);
  spng_ihdr ihdr{static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), depth, color_type, 0, 0, 0};
  spng_set_ihdr(c, &ihdr);
  EXPECT_EQ(spng_encode_image(c, px, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), 0);
  std::size_t size = 0;
  int rc = 0;
  void* out = spng_get_png_buffer(c, &size, &rc);
  bytes b(static_cast<std::byte*>(out), static_cast<std::byte*>(out) + size);
  std::free(out);
  spng_ctx_free(c);
  return b;
}

std::vector<std::uint8_t> as_vector(const tb::tensor& t) {
  const auto* p = static_cast<const std::uint8_t*>(t.data());
  return {p, p + t.nbytes()};
}

std::string error_of(const std::function<void()>& f, tb::error_kind* kind = nullptr) {
  try {
    f();
  } catch (const tb::error& e) {
    if (kind) *kind = e.kind();
    return e.what();
  }
  return "(no error)";
}

TEST(Image, JpegDecodesCloseToTheSourceInEveryMode) {
  const auto px = pattern(64, 48);
  for (bool progressive : {false, true}) {
    const bytes jpg = encode_jpeg(px, 64, 48, progressive);
    tb::tensor rgb = tb::decode_image(jpg);
    ASSERT_EQ(rgb.shape(), (tb::shape_t{48, 64, 3}));
    double err = 0;
    const auto got = as_vector(rgb);
    for (std::size_t i = 0; i < px.size(); ++i) err += std::abs(int(got[i]) - int(px[i]));
    EXPECT_LT(err / static_cast<double>(px.size()), 3.0);
    EXPECT_EQ(tb::decode_image(jpg, {.mode = tb::image_mode::l}).shape(), (tb::shape_t{48, 64, 1}));
    tb::tensor rgba = tb::decode_image(jpg, {.mode = tb::image_mode::rgba});
    EXPECT_EQ(rgba.at<std::uint8_t>({5, 7, 3}), 255);
    EXPECT_EQ(rgba.at<std::uint8_t>({5, 7, 1}), rgb.at<std::uint8_t>({5, 7, 1}));
  }
}

TEST(Image, PngAndLosslessWebpAreExact) {
  const auto px = pattern(31, 17);
  EXPECT_EQ(as_vector(tb::decode_image(encode_png(px.data(), px.size(), 31, 17, SPNG_COLOR_TYPE_TRUECOLOR, 8))), px);
  std::vector<std::uint16_t> deep(31 * 17);
  for (std::size_t i = 0; i < deep.size(); ++i) deep[i] = static_cast<std::uint16_t>(i * 97);
  // spng's SPNG_FMT_PNG takes (and gives) 16-bit samples in host byte order.
  tb::tensor g16 = tb::decode_image(encode_png(deep.data(), deep.size() * 2, 31, 17, SPNG_COLOR_TYPE_GRAYSCALE, 16),
                                    {.mode = tb::image_mode::unchanged});
  ASSERT_EQ(g16.dtype(), tb::dtype::uint16);
  EXPECT_EQ(std::memcmp(g16.data(), deep.data(), g16.nbytes()), 0);
  std::uint8_t* out = nullptr;
  const std::size_t n = WebPEncodeLosslessRGB(px.data(), 31, 17, 31 * 3, &out);
  const bytes webp(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + n);
  WebPFree(out);
  EXPECT_EQ(as_vector(tb::decode_image(webp)), px);
}

TEST(Image, BadInputIsAFormatErrorNamingWhat) {
  const auto px = pattern(40, 40);
  const bytes jpg = encode_jpeg(px, 40, 40);
  tb::error_kind kind{};
  for (std::size_t cut : {std::size_t{3}, std::size_t{20}, jpg.size() / 3, jpg.size() / 2, jpg.size() - 3}) {
    const bytes part(jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string msg = error_of([&] { tb::decode_image(part, {}, "cut.jpg"); }, &kind);
    EXPECT_EQ(kind, tb::error_kind::format) << msg;
    EXPECT_NE(msg.find("cut.jpg: "), std::string::npos) << msg;
  }
  bytes png = encode_png(px.data(), px.size(), 40, 40, SPNG_COLOR_TYPE_TRUECOLOR, 8);
  png[40] ^= std::byte{0xff};  // inside IDAT (after the 33-byte signature + IHDR)
  EXPECT_NE(error_of([&] { tb::decode_image(png, {}, "bad.png"); }).find("bad.png: corrupt PNG: the CRC of chunk"),
            std::string::npos);
  const std::string gif = "GIF89a....";
  EXPECT_NE(error_of([&] { tb::decode_image(std::as_bytes(std::span(gif))); }).find("unsupported image format GIF"),
            std::string::npos);
  EXPECT_NE(error_of([&] { tb::decode_image(bytes{}); }).find("empty file"), std::string::npos);
  EXPECT_NE(error_of([&] { tb::decode_image(jpg, {.max_pixels = 100}); }).find("decompression bomb"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { tb::read_image(temp_path("missing.jpg")); }, &kind).find("(no error)"), std::string::npos);
  EXPECT_EQ(kind, tb::error_kind::not_found);
}

TEST(Image, ExifOrientationTagAndTransposition) {
  // A little-endian TIFF block with one IFD entry: Orientation (0x0112), SHORT, 1, value 6.
  const unsigned char tiff[] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0};
  EXPECT_EQ(tb::detail::exif_orientation(std::as_bytes(std::span(tiff))), 6);
  EXPECT_EQ(tb::detail::exif_orientation(std::as_bytes(std::span(tiff).first(12))), 1);
  tb::tensor img = tb::tensor::empty({2, 3, 1}, tb::dtype::uint8);
  for (int i = 0; i < 6; ++i) static_cast<std::uint8_t*>(img.data())[i] = static_cast<std::uint8_t>(i);
  // 6: rotate 90 degrees clockwise: [[0 1 2], [3 4 5]] -> [[3 0], [4 1], [5 2]].
  EXPECT_EQ(as_vector(tb::detail::apply_exif_orientation(img, 6)), (std::vector<std::uint8_t>{3, 0, 4, 1, 5, 2}));
  EXPECT_EQ(as_vector(tb::detail::apply_exif_orientation(img, 8)), (std::vector<std::uint8_t>{2, 5, 1, 4, 0, 3}));
}

TEST(ImageOps, ResizeCropBoxesAndFusedTransform) {
  const auto px = pattern(96, 72);
  const bytes jpg = encode_jpeg(px, 96, 72);
  const tb::tensor full = tb::decode_image(jpg);
  EXPECT_EQ(as_vector(tb::resize(full, 72, 96)), as_vector(full));  // same size: a copy
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const tb::crop_box b = tb::random_resized_crop_box(72, 96, seed);
    ASSERT_TRUE(b.top >= 0 && b.left >= 0 && b.top + b.height <= 72 && b.left + b.width <= 96);
    const tb::crop_box again = tb::random_resized_crop_box(72, 96, seed);
    EXPECT_EQ(b.top, again.top);
    tb::image_transform t;
    t.crop = tb::image_crop::random_resized;
    t.height = t.width = 24;
    t.dct_scaling = false;
    const tb::tensor fused = tb::transform_image(jpg, t, seed);
    const tb::tensor unfused = tb::resize(tb::crop(full, b), 24, 24);
    const auto f = as_vector(fused), u = as_vector(unfused);
    for (std::size_t i = 0; i < f.size(); ++i) ASSERT_LE(std::abs(int(f[i]) - int(u[i])), 1) << "seed " << seed;
  }
}

TEST(ImagePipeline, FromFilesIsTheSameForAnyThreadCount) {
  std::vector<std::string> paths;
  for (int i = 0; i < 6; ++i) {
    const auto px = pattern(80 + i * 8, 60);
    const bytes jpg = encode_jpeg(px, 80 + i * 8, 60);
    paths.push_back(temp_path("img" + std::to_string(i) + ".jpg"));
    write_file(paths.back(), std::string(reinterpret_cast<const char*>(jpg.data()), jpg.size()));
  }
  const auto make = [&] {
    return tb::dataset::from_files(paths)
        .shuffle({.enabled = true, .seed = 1})
        .map(tb::map_op::random_resized_crop({32}), {0})
        .map(tb::map_op::random_flip(1), {0})
        .map(tb::map_op::permute({2, 0, 1}), {0})
        .batch({.batch_size = 4});
  };
  std::vector<std::vector<std::uint8_t>> one, two;
  auto a = make().iterate({.buffer_size = 1, .num_threads = 1});
  while (auto b = a->next()) one.push_back(as_vector((*b)[0]));
  auto c = make().iterate({.buffer_size = 4, .num_threads = 2});
  while (auto b = c->next()) two.push_back(as_vector((*b)[0]));
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one, two);
  // Without a size-fixing op, images of another size fail the batch and say which op to add.
  auto raw = tb::dataset::from_files(paths).batch({.batch_size = 6}).iterate({.buffer_size = 0});
  EXPECT_NE(error_of([&] { raw->next(); }).find("add tb.ops.resize((h, w))"), std::string::npos);
}

}  // namespace
