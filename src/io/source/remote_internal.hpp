#pragma once
// The remote kinds behind `open_source`, `list_objects` and `object_writer` (s3:// and http(s)://).

#include <memory>
#include <string>
#include <vector>

#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// A source reading `path` (s3:// or http(s)://) with parallel ranged GETs. Its first request
/// learns the size and ETag and keeps the first `head_bytes` (at least 1), which later reads of
/// them cost nothing.
std::unique_ptr<byte_source> open_remote_source(const std::string& path, const storage_options& options,
                                                std::size_t head_bytes = std::size_t{64} << 10);

/// `open_remote_source` through the local cache `options.cache_dir` (see cache.cpp): a small
/// request checks the cached copy's ETag and size, and the object is fetched only when they differ;
/// when the server cannot be reached, a cached copy is read unchecked.
std::unique_ptr<byte_source> open_cached_source(const std::string& path, const storage_options& options);

/// Every object under the s3:// `prefix` (ListObjectsV2, all pages), sorted by key.
std::vector<object_info> list_remote(const std::string& prefix, const storage_options& options);

/// `path` as messages show it: a URL's query (which may hold a presigned signature) is dropped.
std::string safe_where(const std::string& path);

}  // namespace tb::detail
