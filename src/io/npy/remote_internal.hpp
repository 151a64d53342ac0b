#pragma once
// .npy and .npz written to remote objects (s3://): what save_npy and save_npz do when given a
// remote path. (Readers take any path through `open_source`.)

#include <functional>
#include <span>
#include <string>

#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// Writes a remote object at `path` with `write(sink)`, uploaded as it is produced; nothing is
/// visible unless `write` returns normally.
void save_remote(const std::string& path, const storage_options& options,
                 const std::function<void(const std::function<void(std::span<const std::byte>)>&)>& write);

}  // namespace tb::detail
