#pragma once
// Sequential reading of any path (local or remote) for the streaming readers (CSV): a remote
// object is fetched in batches of parallel ranged parts, the next batch downloading while the
// reader consumes the current one.

#include <memory>
#include <string>

#include "io/file_internal.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// The bytes of `path` front to back: `open_file_stream` for a local path, else the remote object
/// read ahead in batches of `options.concurrency` parts of `options.part_size`.
std::unique_ptr<byte_stream> open_path_stream(const std::string& path, const storage_options& options);

/// The bytes of `source` front to back, read ahead as `open_path_stream` does.
std::unique_ptr<byte_stream> source_stream(std::unique_ptr<byte_source> source, const storage_options& options);

}  // namespace tb::detail
