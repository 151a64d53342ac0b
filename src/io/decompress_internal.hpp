#pragma once
// Compressed text files (gzip, bzip2, xz, zstd) read as the bytes they hold, as pandas' read_csv
// does with compression="infer". The format is told by the first bytes (not by the name), so a
// compressed file read through a pipe or a name without an extension works too.

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "io/file_internal.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// The compressions a byte stream can be decoded from.
enum class compression { none, gzip, bz2, xz, zstd };

/// Wraps `raw` so that it yields the decompressed bytes. `name` is the caller's compression
/// option: "infer" (decode what the first bytes announce, else read as is), "none" or "" (as is),
/// "gzip", "bz2", "xz" or "zstd" (the first bytes must agree). Concatenated streams (pigz, pbzip2,
/// multi-frame zstd) are read to their end.
/// - An unknown name is a tb::error (value) listing the names.
/// - Corrupt or truncated compressed data is a tb::error (format) naming the source and the
///   compressed byte offset.
/// - With "none", compressed content is a tb::error (format) saying which compression to pass,
///   instead of a parse error on binary data.
std::unique_ptr<byte_stream> decompressed(std::unique_ptr<byte_stream> raw, std::string_view name);

/// The compression announced by the first bytes of `head` (at least 6 bytes unless the data is
/// shorter), or none.
compression sniff_compression(std::span<const std::byte> head);

/// The whole decompressed content of the file at `path` (see `decompressed` for `name`). A regular
/// file that is not compressed is read with parallel preads of its size at opening; a remote path
/// (`s3://`, `https://`) is read through `storage` (plain text as parallel ranged GETs).
std::shared_ptr<storage> read_file_decompressed(const std::string& path, std::string_view name,
                                                const storage_options& storage = {});

/// `read_file_decompressed` of a remote path.
std::shared_ptr<storage> read_remote_decompressed(const std::string& path, std::string_view name,
                                                  const storage_options& storage);

}  // namespace tb::detail
