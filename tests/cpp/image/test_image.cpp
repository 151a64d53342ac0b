// tb::decode_image, the image ops and the image-file data set, on images encoded here with the
// same libraries' encoders (libjpeg, libspng, libwebp): pixels, modes, bad input (ASan checks that
// the libjpeg error path leaks nothing), fused == unfused, determinism for any thread count.

#include <gtest/gtest.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "image/image_internal.hpp"
#include "tensorbridge/pipeline/dataset.hpp"
#include "tensorbridge/image/check.hpp"
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

// A JPEG with its entropy-coded data damaged at `where` (0..1 through the scan): 16 stuffed 0xFF
// bytes there (`marker` false: 128 one bits, no valid Huffman code), or an EOI marker in the
// middle of the scan (`marker` true: libjpeg's "premature end of data segment"). The header
// stays intact.
bytes damage_scan(bytes jpg, double where, bool marker) {
  std::size_t sos = 0;
  for (std::size_t i = 2; i + 1 < jpg.size(); ++i)
    if (jpg[i] == std::byte{0xff} && jpg[i + 1] == std::byte{0xda}) {
      sos = i;
      break;
    }
  const std::size_t start = sos + 2 + ((static_cast<std::size_t>(jpg[sos + 2]) << 8) | static_cast<std::size_t>(jpg[sos + 3]));
  std::size_t at = start + static_cast<std::size_t>(static_cast<double>(jpg.size() - 2 - start) * where);
  if (marker) {
    jpg[at] = std::byte{0xff};
    jpg[at + 1] = std::byte{0xd9};
    return jpg;
  }
  for (int k = 0; k < 16; ++k, at += 2) {
    jpg[at] = std::byte{0xff};
    jpg[at + 1] = std::byte{0x00};
  }
  return jpg;
}

// An image with sharp edges (8-pixel checks and a diagonal), where any two downscale filters differ.
std::vector<std::uint8_t> checks(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k)
        px[static_cast<std::size_t>((y * w + x) * 3 + k)] =
            static_cast<std::uint8_t>((((x / 8) + (y / 8)) % 2 ? 230 : 20) ^ (x > y ? 0x40 * k : 0));
  return px;
}

TEST(ImageCheck, DamagedPixelDataFailsTheCheckNotTheHeader) {
  const int w = 64, h = 256;
  const bytes good = encode_jpeg(pattern(w, h), w, h);
  tb::check_image(good, {}, "good.jpg");
  for (bool marker : {false, true}) {
    const bytes bad = damage_scan(good, 0.8, marker);
    EXPECT_EQ(tb::read_image_info(bad, "bad.jpg").height, h);  // the header is fine
    const std::string msg = error_of([&] { tb::check_image(bad, {}, "bad.jpg"); });
    EXPECT_NE(msg.find(marker ? "bad.jpg: corrupt JPEG: premature end of data segment" : "bad.jpg: corrupt JPEG: bad Huffman code"),
              std::string::npos)
        << msg;
    // libjpeg only warns about such data and fills in gray blocks; here it is an error.
    EXPECT_EQ(error_of([&] { tb::decode_image(bad, {}, "bad.jpg"); }), msg);
    // A region decode of the top rows never reaches the damage: only a full check finds it.
    const tb::tensor region = tb::detail::decode_jpeg(bad, {}, "bad.jpg", {.x = 0, .y = 0, .width = w, .height = 32}).pixels;
    EXPECT_EQ(region.shape()[1], w);
  }
  const bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() * 7 / 10));
  EXPECT_NE(error_of([&] { tb::check_image(cut, {}, "cut.jpg"); }).find("cut.jpg: truncated JPEG"), std::string::npos);
  const bytes progressive = encode_jpeg(pattern(w, h), w, h, true);
  tb::check_image(progressive);
  const bytes cut_progressive(progressive.begin(), progressive.begin() + static_cast<std::ptrdiff_t>(progressive.size() * 9 / 10));
  EXPECT_NE(error_of([&] { tb::check_image(cut_progressive, {}, "p.jpg"); }).find("p.jpg: truncated JPEG"), std::string::npos);
  EXPECT_NE(error_of([&] { tb::check_image(good, {.max_pixels = 100}); }).find("decompression bomb"), std::string::npos);
}

TEST(ImageCheck, FromFilesSkipsTheSameDamagedFilesForAnyThreadCount) {
  const int w = 48, h = 40;
  std::vector<std::string> paths;
  const auto add = [&](const std::string& name, const bytes& b) {
    paths.push_back(temp_path(name));
    write_file(paths.back(), std::string(reinterpret_cast<const char*>(b.data()), b.size()));
  };
  for (int i = 0; i < 10; ++i) {
    auto px = pattern(w, h);
    px[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i * 20);  // distinct files
    const bytes jpg = encode_jpeg(px, w, h);
    add("good" + std::to_string(i) + ".jpg", jpg);
    if (i == 2) add("huffman.jpg", damage_scan(jpg, 0.5, false));
    if (i == 5) add("marker.jpg", damage_scan(jpg, 0.6, true));
    if (i == 7) add("cut.jpg", bytes(jpg.begin(), jpg.begin() + static_cast<std::ptrdiff_t>(jpg.size() * 3 / 4)));
  }
  const auto px = pattern(w, h);
  bytes png = encode_png(px.data(), px.size(), w, h, SPNG_COLOR_TYPE_TRUECOLOR, 8);
  png[45] ^= std::byte{0x5a};  // inside IDAT: its CRC no longer matches
  add("crc.png", png);
  add("missing.jpg", bytes{});
  std::filesystem::remove(paths.back());
  const std::vector<std::string> bad = {"huffman.jpg", "marker.jpg", "cut.jpg", "crc.png", "missing.jpg"};
  tb::tensor labels = tb::tensor::empty({static_cast<std::int64_t>(paths.size())}, tb::dtype::int64);
  for (std::size_t i = 0; i < paths.size(); ++i) static_cast<std::int64_t*>(labels.data())[i] = static_cast<std::int64_t>(i);

  // Without skip: the batch that meets a damaged file fails, naming it and what is wrong.
  auto raw = tb::dataset::from_files(paths, labels).batch({.batch_size = 4}).iterate({.buffer_size = 0});
  const std::string msg = error_of([&] { while (raw->next()) {} });
  EXPECT_NE(msg.find("huffman.jpg: corrupt JPEG: bad Huffman code"), std::string::npos) << msg;
  EXPECT_NE(msg.find("on_error=\"skip\""), std::string::npos) << msg;

  std::int64_t progress_calls = 0, last_done = -1;
  const auto make = [&](int check_threads) {
    tb::image_files_options o;
    o.on_error = tb::image_error_action::skip;
    o.check_threads = check_threads;
    o.progress = [&](std::int64_t done, std::int64_t total) {
      ++progress_calls;
      last_done = done;
      EXPECT_EQ(total, static_cast<std::int64_t>(paths.size()));
    };
    return tb::dataset::from_files(paths, labels, o);
  };
  const tb::dataset one = make(1), two = make(2);
  EXPECT_GE(progress_calls, 2);
  EXPECT_EQ(last_done, static_cast<std::int64_t>(paths.size()));
  for (const tb::dataset& ds : {one, two}) {
    const auto skipped = ds.skipped_files();
    ASSERT_EQ(skipped.size(), bad.size());
    for (std::size_t i = 0; i < bad.size(); ++i) {
      EXPECT_TRUE(skipped[i].path.ends_with(bad[i])) << skipped[i].path;
      EXPECT_NE(skipped[i].reason.find(bad[i]), std::string::npos) << skipped[i].reason;
    }
    EXPECT_EQ(paths[static_cast<std::size_t>(skipped[0].index)], skipped[0].path);
  }
  // The same surviving samples (images and labels) for 1 and 2 pipeline threads and any seed.
  const auto run = [](const tb::dataset& ds, int threads, std::uint64_t seed) {
    std::vector<std::vector<std::uint8_t>> images;
    std::set<std::int64_t> seen;
    auto it = ds.shuffle({.enabled = true, .seed = seed})
                  .map(tb::map_op::random_resized_crop({24}), {0})
                  .batch({.batch_size = 3})
                  .iterate({.buffer_size = 2, .num_threads = threads});
    while (auto b = it->next()) {
      images.push_back(as_vector((*b)[0]));
      const auto* y = static_cast<const std::int64_t*>((*b)[1].data());
      for (std::int64_t i = 0; i < (*b)[1].shape()[0]; ++i) seen.insert(y[i]);
    }
    return std::pair{images, seen};
  };
  const auto [a_images, a_labels] = run(one, 1, 4);
  const auto [b_images, b_labels] = run(two, 2, 4);
  EXPECT_EQ(a_images, b_images);
  EXPECT_EQ(a_labels, b_labels);
  EXPECT_EQ(a_labels, run(one, 2, 9).second);
  EXPECT_EQ(a_labels.size(), 10u);
  for (std::int64_t y : a_labels) EXPECT_TRUE(paths[static_cast<std::size_t>(y)].find("good") != std::string::npos);
  // Every file damaged: an error that says so.
  const std::vector<std::string> all_bad = {paths[3], paths[7]};  // huffman.jpg, marker.jpg
  ASSERT_TRUE(all_bad[0].ends_with("huffman.jpg") && all_bad[1].ends_with("marker.jpg"));
  EXPECT_NE(error_of([&] { tb::dataset::from_files(all_bad, std::nullopt, {.on_error = tb::image_error_action::skip}); })
                .find("none of the 2 files decodes"),
            std::string::npos);
}

// A fuzz find (tests/fuzz/corpus/fuzz_decode_image/406187e8...): a 32-byte PNG declaring about
// 10^9 x 1.7 10^9 pixels made transform_image size its resampling axes (4 GB) before the pixel
// limit was checked. Here 2^31-1 x 2^31-1: the axes alone would take 17 GB.
TEST(ImageOps, TransformChecksThePixelLimitBeforeSizingAnything) {
  const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R',
                               0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x08, 0, 0, 0, 0, 0x1c, 0x65, 0xcf};
  tb::image_transform t;
  t.crop = tb::image_crop::center;
  t.resize_height = 17;
  t.height = t.width = 4;
  const auto peak_kib = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
  };
  const long before = peak_kib();
  const std::string msg = error_of([&] { tb::transform_image(std::as_bytes(std::span(png)), t, 0, "bomb.png"); });
  EXPECT_LT(peak_kib() - before, 256 * 1024) << "KiB of peak memory for a refused image";
  EXPECT_NE(msg.find("bomb.png: the PNG declares 2147483647x2147483647"), std::string::npos) << msg;
  EXPECT_NE(msg.find("decompression bomb"), std::string::npos) << msg;
}

TEST(ImageOps, FusedDefaultIsWithinOneLevelOfTheUnfusedChainOnSharpEdges) {
  const int w = 320, h = 240;
  const bytes jpg = encode_jpeg(checks(w, h), w, h);
  const tb::tensor full = tb::decode_image(jpg);
  int worst_default = 0, worst_dct = 0;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    const tb::crop_box b = tb::random_resized_crop_box(h, w, seed);
    const auto unfused = as_vector(tb::resize(tb::crop(full, b), 32, 32));
    tb::image_transform t;  // the default: no DCT scaling
    t.crop = tb::image_crop::random_resized;
    t.height = t.width = 32;
    for (bool dct : {false, true}) {
      t.dct_scaling = dct;
      const auto fused = as_vector(tb::transform_image(jpg, t, seed));
      int& worst = dct ? worst_dct : worst_default;
      for (std::size_t i = 0; i < fused.size(); ++i) worst = std::max(worst, std::abs(int(fused[i]) - int(unfused[i])));
    }
  }
  EXPECT_LE(worst_default, 1);
  EXPECT_GT(worst_dct, 1);  // what the default avoids (so this test would see a DCT-scaled default)
  EXPECT_FALSE(tb::image_transform{}.dct_scaling);
}

}  // namespace
