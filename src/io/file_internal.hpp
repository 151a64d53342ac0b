#pragma once
// How readers and writers reach files. Every failure is a tb::error naming the path and the
// operating system's reason, with a kind from errno: not_found (ENOENT, ENOTDIR), permission
// (EACCES, EPERM), is_directory, write (any failed write), io (anything else).
//
// - Readers that need random access (.npy, .npz) open with `file_handle::open_read`, which gives
//   regular files as they are and copies anything else (a FIFO, a pipe such as `<(zcat f)`, a
//   /proc file whose size reads as 0) into an anonymous in-memory file first, so that pread and
//   mmap work on it.
// - Sequential readers (CSV) use `byte_stream`, which reads regular files with pread (a file that
//   shrinks while it is read is an error naming the byte offset, never a SIGBUS) and anything else
//   with read(2) to its end.
// - Every writer writes through `atomic_file`: a temporary file in the target's folder, renamed
//   over the target only once complete and synced, so a failed or interrupted save leaves the old
//   file as it was (and saving over a file that is memory-mapped from itself is safe).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tensorbridge/core/tensor.hpp"

namespace tb::detail {

/// Throws the tb::error for a failed system call `what` on `where` with errno `err`.
[[noreturn]] void fail_errno(std::string_view what, std::string_view where, int err);

/// An open file descriptor, closed on destruction.
class file_handle {
 public:
  file_handle() = default;
  /// Opens `path` for random-access reading: a regular file as it is; a FIFO, pipe, character
  /// device or size-0 regular file (/proc) read to its end into an anonymous in-memory file.
  /// A directory is a tb::error (is_directory).
  static file_handle open_read(const std::string& path);
  /// Opens `path` for reading without copying anything (see `is_regular`).
  static file_handle open_raw(const std::string& path);
  /// An anonymous in-memory file holding `bytes`, named `name` in messages.
  static file_handle from_bytes(std::span<const std::byte> bytes, const std::string& name);
  /// An empty anonymous in-memory file, named `name` in messages (a staging area for writers).
  static file_handle anonymous(const std::string& name);
  /// Takes ownership of the open descriptor `fd`, named `name` in messages.
  static file_handle adopt(int fd, const std::string& name);
  ~file_handle();
  file_handle(file_handle&& other) noexcept
      : fd_(other.fd_), path_(std::move(other.path_)), regular_(other.regular_) {
    other.fd_ = -1;
  }
  file_handle& operator=(file_handle&& other) noexcept;
  file_handle(const file_handle&) = delete;
  file_handle& operator=(const file_handle&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& path() const noexcept { return path_; }
  /// True for a regular file with a size (random access works); false for streams.
  bool is_regular() const noexcept { return regular_; }
  /// The file's size in bytes.
  std::uint64_t size() const;
  /// Closes the descriptor now (errors on close are ignored: reads never need them).
  void close() noexcept;
  /// Gives up the descriptor without closing it.
  int release() noexcept;

 private:
  int fd_ = -1;
  std::string path_;
  bool regular_ = false;
};

/// Reads exactly `n` bytes at `offset`, on several threads when `n` is large. A short read (the
/// file shrank since its size was taken) is a tb::error (io) naming `where` and the offset.
void pread_exact(int fd, void* buffer, std::size_t n, std::uint64_t offset, std::string_view where);

/// Writes exactly `n` bytes at `offset` (pwrite; used to patch headers written earlier).
void pwrite_exact(int fd, const void* buffer, std::size_t n, std::uint64_t offset, std::string_view where);

/// Appends exactly `bytes` at the current position.
void write_exact(int fd, std::span<const std::byte> bytes, std::string_view where);

/// Maps [offset, offset + size) of `fd` (any offset: the mapping starts at the page below) and
/// returns a storage whose data() is the byte at `offset` and which unmaps on release.
/// `writable_private` maps copy-on-write (MAP_PRIVATE, writable); otherwise shared and read-only.
/// A region beyond the file's current end (the file shrank since it was opened) is a tb::error
/// (io) instead of a mapping whose first touch kills the process.
std::shared_ptr<storage> map_region(int fd, std::uint64_t offset, std::uint64_t size, bool writable_private,
                                    std::string_view where);

/// A new version of the file at `path`, written under a temporary name in the same folder and
/// renamed over `path` by `commit()` (after an fsync). Until then `path` is untouched; if the
/// object dies uncommitted (an error), the temporary file is removed.
/// - The new file keeps the mode of the file it replaces (or 0666 & ~umask); a symbolic link is
///   followed, so its target is replaced and the link stays.
/// - A target that exists but is not a regular file (/dev/stdout, a FIFO) cannot be renamed
///   over: the bytes are staged in memory and copied into it by `commit()`.
/// - Errors: a missing folder is not_found, a folder without write permission is permission, a
///   directory as target is is_directory, any failed write or sync is write.
class atomic_file {
 public:
  explicit atomic_file(const std::string& path);
  ~atomic_file();
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  /// The descriptor to write the new content to (seekable: pwrite may patch it).
  int fd() const noexcept { return file_.fd(); }
  /// The target's path, as given (for messages).
  const std::string& path() const noexcept { return path_; }
  /// Syncs the new content and puts it in place of the old.
  void commit();

 private:
  std::string path_;    // as given
  std::string target_;  // symbolic links resolved
  std::string temp_;    // the temporary name; empty when staging in memory
  file_handle file_;
  bool committed_ = false;
};

/// Streams the content of a staged (anonymous or temporary) file `from` to `sink`, in pieces.
void copy_file_to(const file_handle& from, const std::function<void(std::span<const std::byte>)>& sink);

/// A source of bytes read front to back.
class byte_stream {
 public:
  virtual ~byte_stream() = default;
  /// Reads up to `n` bytes into `out`; returns 0 only at the end of the stream.
  virtual std::size_t read(std::byte* out, std::size_t n) = 0;
  /// The name of the source in messages (the path).
  virtual const std::string& where() const = 0;
};

/// The bytes of `path` front to back: a regular file with pread (a file that ends before the size
/// it had when opened is a tb::error (io) naming the byte offset), anything else with read(2).
std::unique_ptr<byte_stream> open_file_stream(const std::string& path);

/// `open_file_stream` of a file already open (from `file_handle::open_raw`).
std::unique_ptr<byte_stream> file_stream_of(file_handle file);

/// The bytes of a span (not owned: it must outlive the stream), named `where`.
std::unique_ptr<byte_stream> memory_stream(std::span<const std::byte> bytes, std::string where);

/// Reads `in` to its end into one buffer.
std::shared_ptr<storage> read_to_end(byte_stream& in);


}  // namespace tb::detail
