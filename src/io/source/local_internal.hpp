#pragma once
// A byte source over a file that is already open (an anonymous in-memory file, a FIFO copied by
// `file_handle::open_read`), for readers that hold a `file_handle`.

#include <memory>

#include "io/file_internal.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// A source reading `file` (taken over) with pread; `fd()` gives its descriptor (for mapping).
std::unique_ptr<byte_source> file_source_of(file_handle file);

}  // namespace tb::detail
