#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/parallel_internal.hpp"
#include "io/file_internal.hpp"

namespace tb::detail {
namespace {

// errno decides the kind, so Python sees FileNotFoundError / PermissionError as NumPy users expect.
[[noreturn]] void fail_errno(std::string_view what, std::string_view where, int err) {
  error_kind kind = err == ENOENT || err == ENOTDIR ? error_kind::not_found
                    : err == EACCES || err == EPERM ? error_kind::permission
                                                    : error_kind::io;
  fail(kind, where, ": ", what, " failed: ", std::strerror(err));
}

// One pread call per piece: large enough that syscall cost vanishes, small enough that two
// threads share a big read evenly.
constexpr std::size_t read_piece = std::size_t{8} << 20;

void pread_serial(int fd, std::byte* p, std::size_t n, std::uint64_t offset, std::string_view where) {
  while (n > 0) {
    ssize_t got = ::pread(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30), static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail_errno("read", where, errno);
    }
    if (got == 0)
      fail(error_kind::format, where, ": unexpected end of file at byte offset ", offset, " (", n,
           " more bytes expected); the file is truncated");
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
}

}  // namespace

file_handle file_handle::open_read(const std::string& path) {
  file_handle f;
  f.path_ = path;
  f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd_ < 0) fail_errno("open", path, errno);
  struct stat st {};
  if (::fstat(f.fd_, &st) == 0 && S_ISDIR(st.st_mode)) fail(error_kind::io, path, ": is a directory, not a file");
  return f;
}

file_handle file_handle::open_write(const std::string& path) {
  file_handle f;
  f.path_ = path;
  f.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f.fd_ < 0) fail_errno("open for writing", path, errno);
  return f;
}

file_handle::~file_handle() { close(); }

file_handle& file_handle::operator=(file_handle&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

void file_handle::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::uint64_t file_handle::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail_errno("stat", path_, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

void pread_exact(int fd, void* buffer, std::size_t n, std::uint64_t offset, std::string_view where) {
  auto* p = static_cast<std::byte*>(buffer);
  if (n <= 2 * read_piece) {
    pread_serial(fd, p, n, offset, where);
    return;
  }
  // Page-cache copies are bound by one core's memcpy speed; several readers go faster.
  auto pieces = static_cast<std::int64_t>((n + read_piece - 1) / read_piece);
  parallel_for(pieces, 1, [&](std::int64_t begin, std::int64_t end) {
    std::size_t lo = static_cast<std::size_t>(begin) * read_piece;
    std::size_t hi = std::min(n, static_cast<std::size_t>(end) * read_piece);
    pread_serial(fd, p + lo, hi - lo, offset + lo, where);
  });
}

void pwrite_exact(int fd, const void* buffer, std::size_t n, std::uint64_t offset, std::string_view where) {
  const auto* p = static_cast<const std::byte*>(buffer);
  while (n > 0) {
    ssize_t put = ::pwrite(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30), static_cast<off_t>(offset));
    if (put < 0) {
      if (errno == EINTR) continue;
      fail_errno("write", where, errno);
    }
    p += put;
    n -= static_cast<std::size_t>(put);
    offset += static_cast<std::uint64_t>(put);
  }
}

void write_exact(int fd, std::span<const std::byte> bytes, std::string_view where) {
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  // Reserving the extent first lets the file system allocate it in one go instead of block by
  // block as pages are written (about 3x faster for a 512 MiB .npy on ext4, as NumPy does). Only a
  // hint: file systems without it, pipes and errors just fall back to plain writes.
  if (n >= (std::size_t{1} << 20)) {
    const off_t at = ::lseek(fd, 0, SEEK_CUR);
    if (at >= 0) (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, at, static_cast<off_t>(n));
  }
  while (n > 0) {
    ssize_t put = ::write(fd, p, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (put < 0) {
      if (errno == EINTR) continue;
      fail_errno("write", where, errno);
    }
    p += put;
    n -= static_cast<std::size_t>(put);
  }
}

std::shared_ptr<storage> map_region(int fd, std::uint64_t offset, std::uint64_t size, bool writable_private,
                                    std::string_view where) {
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::uint64_t start = offset / page * page;
  std::uint64_t length = std::max<std::uint64_t>(offset - start + size, 1);
  int prot = writable_private ? PROT_READ | PROT_WRITE : PROT_READ;
  int flags = writable_private ? MAP_PRIVATE : MAP_SHARED;
  void* base = ::mmap(nullptr, length, prot, flags, fd, static_cast<off_t>(start));
  if (base == MAP_FAILED) fail_errno("mmap", where, errno);
  auto* data = static_cast<std::byte*>(base) + (offset - start);
  storage::file_mapping mapping{.base = base, .length = static_cast<std::size_t>(length),
                                .shared_read_only = !writable_private, .file_offset = start,
                                .source = std::string(where)};
  // Our own descriptor, so that rows can be read with pread without touching (and so keeping
  // resident) the mapped pages; the caller closes `fd`. A private mapping's written pages exist
  // only in memory, so it gets none. Without a descriptor (EMFILE) reads go through the mapping.
  if (!writable_private) mapping.fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  const int own_fd = mapping.fd;
  return storage::wrap_file_mapping(data, size, std::move(mapping), [base, length, own_fd] {
    ::munmap(base, length);
    if (own_fd >= 0) ::close(own_fd);
  });
}

}  // namespace tb::detail

namespace tb {

// Defined here rather than in core/storage.cpp: mapping files is this file's concern.
std::shared_ptr<storage> storage::wrap_file_mapping(void* data, std::size_t nbytes, file_mapping mapping,
                                                    std::function<void()> release) {
  auto s = wrap(data, nbytes, std::move(release));
  s->mapping_ = std::move(mapping);
  return s;
}

}  // namespace tb
