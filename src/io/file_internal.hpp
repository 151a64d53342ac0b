#pragma once
// Thin POSIX file helpers for the readers and writers: every failure is a tb::error (io) naming the
// path and the operating system's reason.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tensorbridge/tensor.hpp"

namespace tb::detail {

/// An open file descriptor, closed on destruction.
class file_handle {
 public:
  file_handle() = default;
  /// Opens `path` for reading.
  static file_handle open_read(const std::string& path);
  /// Creates or truncates `path` for writing.
  static file_handle open_write(const std::string& path);
  ~file_handle();
  file_handle(file_handle&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) { other.fd_ = -1; }
  file_handle& operator=(file_handle&& other) noexcept;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }
  /// The file's size in bytes.
  std::uint64_t size() const;
  /// Closes the descriptor now (errors on close are ignored: reads never need them).
  void close() noexcept;

 private:
  int fd_ = -1;
  std::string path_;
};

/// Reads exactly `n` bytes at `offset`, on several threads when `n` is large. A short read (the
/// file shrank) is a tb::error (format) naming `where` and the offset.
void pread_exact(int fd, void* buffer, std::size_t n, std::uint64_t offset, std::string_view where);

/// Writes exactly `n` bytes at `offset` (pwrite; used to patch headers written earlier).
void pwrite_exact(int fd, const void* buffer, std::size_t n, std::uint64_t offset, std::string_view where);

/// Appends exactly `bytes` at the current position.
void write_exact(int fd, std::span<const std::byte> bytes, std::string_view where);

/// Maps [offset, offset + size) of `fd` (any offset: the mapping starts at the page below) and
/// returns a storage whose data() is the byte at `offset` and which unmaps on release.
/// `writable_private` maps copy-on-write (MAP_PRIVATE, writable); otherwise shared and read-only.
std::shared_ptr<storage> map_region(int fd, std::uint64_t offset, std::uint64_t size, bool writable_private,
                                    std::string_view where);

}  // namespace tb::detail
