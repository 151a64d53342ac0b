#pragma once
// `read_csv` of a stream parsed while it arrives (see streamed.cpp): what `read_csv` does with a
// remote path.

#include <cstddef>
#include <string>

#include "io/file_internal.hpp"
#include "tensorbridge/io/csv.hpp"

namespace tb::detail {

/// Reads the whole CSV text of `in` as `read_csv` reads a file, parsing every `batch` bytes that
/// arrive (their complete rows) while the stream fetches more; `expected_size` sizes the buffer.
/// `options.nrows` must be unset.
table read_csv_streamed(byte_stream& in, std::size_t expected_size, std::size_t batch, const csv_options& options);

/// `read_csv_streamed` of the remote object `path` through the read-ahead stream (batches of
/// `options.storage.concurrency` parts of `part_size`), decompressed as `options.compression` says.
table read_remote_csv(const std::string& path, const csv_options& options);

}  // namespace tb::detail
