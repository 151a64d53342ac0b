#pragma once
// .npy and .npz over remote byte sources (s3://, http(s)://): what load_npy, read_npy_header,
// load_npy_or_npz, save_npy and save_npz do when given a remote path.

#include <functional>
#include <span>
#include <string>

#include "io/file_internal.hpp"
#include "tensorbridge/io/source.hpp"
#include "tensorbridge/io/npy.hpp"

namespace tb::detail {

/// Reads the header of the .npy at byte 0 of `source` (served by its first request).
npy_header read_npy_source_header(byte_source& source, const npy_load_options& options);

/// Reads the remote `path` as `.npy` (one header request, then parallel ranged parts into the
/// aligned buffer) or `.npz`.
npy_or_npz load_remote_npy_or_npz(const std::string& path, const npy_load_options& options);

/// The whole remote object `path` in an anonymous in-memory file (fetched with parallel ranged
/// GETs straight into it), for readers that need a file descriptor (.npz archives).
file_handle fetch_remote_file(const std::string& path, const storage_options& options);

/// Writes a remote object at `path` with `write(sink)`, uploaded as it is produced; nothing is
/// visible unless `write` returns normally.
void save_remote(const std::string& path, const storage_options& options,
                 const std::function<void(const std::function<void(std::span<const std::byte>)>&)>& write);

}  // namespace tb::detail
