#pragma once
/// @file file.hpp
/// Writing a file whole or not at all, the way every tensorbridge writer does.

#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace tb {

/// A new version of the file at `path` that replaces the old one only when complete.
///
/// - The bytes go to a temporary file in the same folder; `commit()` syncs it and renames it over
///   `path`, so readers see the old file or the new one, never a part. Destroying the writer
///   without `commit()` (an error, an exception) removes the temporary file and leaves `path` as
///   it was. `save_npy` and `save_npz` write this way.
/// - The new file keeps the mode of the one it replaces (else 0666 & ~umask); a symbolic link is
///   followed. A target that is not a regular file (a FIFO, /dev/stdout) is written in place at
///   `commit()`.
/// - Errors (`tb::error`): a missing folder is not_found, a folder without write permission is
///   permission, a directory is is_directory, a failed write or sync is write.
///
/// Example:
/// ```
/// tb::atomic_writer out("table.csv");
/// out.write(std::as_bytes(std::span(text)));
/// out.commit();
/// ```
class atomic_writer {
 public:
  /// Creates the temporary file beside `path`.
  explicit atomic_writer(const std::string& path);
  /// Removes the temporary file unless `commit()` ran.
  ~atomic_writer();
  atomic_writer(atomic_writer&&) noexcept;
  atomic_writer& operator=(atomic_writer&&) noexcept;

  /// Appends `bytes`.
  void write(std::span<const std::byte> bytes);
  /// Puts the new content in place of the old; further writes are an error (value).
  void commit();
  /// Gives up: removes the temporary file now and leaves `path` as it was.
  void discard() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tb
