#pragma once
/// @file check.hpp
/// Checking that image files decode, before a data set uses them: every pixel is decoded once
/// (as cheaply as the format allows), so a file with a good header but damaged pixel data (a
/// truncated scan, bad Huffman data, a PNG chunk with a bad CRC, a corrupt WebP) is found before
/// any batch is made. `dataset::from_files` with `on_error = skip` leaves such files out.
///
/// Example:
/// ```
/// for (const tb::image_file_problem& p : tb::check_image_files(paths))
///   std::cerr << p.reason << "\n";  // "data/cat/7.jpg: corrupt JPEG: bad Huffman code (...)"
/// ```

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/image/image.hpp"

namespace tb {

/// Decodes every pixel of an encoded JPEG, PNG or WebP image without keeping them (JPEG at 1/8
/// scale: every block is still entropy-decoded, which is where damage shows; about 60% of the
/// time of a full decode of a quality-90 JPEG, where the entropy decoding dominates). Throws what `decode_image` throws (naming `name`) for any file that
/// `decode_image` or a fused `transform_image` could fail on: damaged or truncated data, a bad
/// CRC, an unsupported or unknown format, more pixels than `options.max_pixels`.
void check_image(std::span<const std::byte> data, const image_decode_options& options = {},
                 std::string_view name = "<bytes>");

/// A file that `check_image_files` found unusable.
struct image_file_problem {
  std::int64_t index = 0;  ///< its position in the list checked
  std::string path;        ///< the file
  std::string reason;      ///< the error message (it names the file and what is wrong)
};

/// Options of `check_image_files`.
struct image_check_options {
  image_decode_options decode;  ///< the mode and pixel limit the files will be decoded with
  int num_threads = 0;          ///< threads checking files; 0: one per core
  /// Called on the calling thread about 4 times a second and once at the end with the files
  /// checked so far and the total (a progress bar); may throw to abandon the check.
  std::function<void(std::int64_t done, std::int64_t total)> progress = nullptr;
  storage_options storage;  ///< how to reach remote paths (`s3://`, `https://`)
};

/// `check_image` for every file of `paths`, on `options.num_threads` threads; returns the files
/// that fail (file errors such as not_found, permission, is_directory and io included), in the
/// order of `paths`. The result depends only on the files' content, never on the thread count.
/// Errors other than those of a file (an invalid option) are thrown.
std::vector<image_file_problem> check_image_files(std::span<const std::string> paths,
                                                  const image_check_options& options = {});

}  // namespace tb
