#pragma once
/// @file error.hpp
/// The one error type of tensorbridge: `tb::error`, carrying a kind that the Python layer maps to a
/// built-in exception class (type -> TypeError, value -> ValueError, overflow -> OverflowError,
/// io -> OSError, not_found -> FileNotFoundError, permission -> PermissionError,
/// is_directory -> IsADirectoryError, write -> OSError, format -> ValueError, buffer -> BufferError).

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tb {

/// What went wrong, in the categories a caller handles differently.
enum class error_kind {
  type,      ///< a dtype, device or object kind that is not supported
  value,     ///< an argument outside its domain (bad shape, bad option)
  overflow,  ///< a value that does not fit its destination (checked casts)
  io,        ///< the operating system refused to read (or a source failed mid-read)
  not_found, ///< a file, object or bucket that does not exist
  permission,///< access refused by the operating system or a server
  write,     ///< a write or save failed (the previous file, if any, is left as it was)
  format,    ///< a file or buffer whose content is malformed
  buffer,    ///< a buffer that cannot be shared as asked (copy=false that needs a copy)
  is_directory,  ///< a directory where a file was expected (to read or to write)
};

/// The name of an error kind: "type", "value", ...
const char* to_string(error_kind kind) noexcept;

/// Every error tensorbridge throws. The message says what, where, and how to fix it.
class error : public std::runtime_error {
 public:
  error(error_kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  /// The category of the failure.
  error_kind kind() const noexcept { return kind_; }

 private:
  error_kind kind_;
};

namespace detail {
/// Concatenates the streamed form of every argument (the core has no std::format on GCC 12).
template <class... Args>
std::string cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}
}  // namespace detail

/// Throws `tb::error(kind, message)` where the message is the concatenation of `parts`.
template <class... Parts>
[[noreturn]] void fail(error_kind kind, Parts&&... parts) {
  throw error(kind, detail::cat(std::forward<Parts>(parts)...));
}

}  // namespace tb
