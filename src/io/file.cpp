#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "core/parallel_internal.hpp"
#include "io/file_internal.hpp"
#include "tensorbridge/io/file.hpp"

namespace tb::detail {

void fail_errno(std::string_view what, std::string_view where, int err) {
  error_kind kind = err == ENOENT || err == ENOTDIR ? error_kind::not_found
                    : err == EACCES || err == EPERM ? error_kind::permission
                    : err == EISDIR                 ? error_kind::is_directory
                                                    : error_kind::io;
  fail(kind, where, ": ", what, " failed: ", std::strerror(err));
}

namespace {

[[noreturn]] void fail_directory(std::string_view where) {
  fail(error_kind::is_directory, where, ": is a directory, not a file");
}

// Writes fail as writes whatever errno says (EFBIG, ENOSPC, EIO, EFAULT...): the caller's old file is intact.
[[noreturn]] void fail_write(std::string_view what, std::string_view where, int err) {
  fail(error_kind::write, where, ": ", what, " failed: ", std::strerror(err),
       "; nothing was replaced (a file already there is unchanged)");
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
    // Sizes were checked against the file when it was opened: ending early means it shrank since.
    if (got == 0)
      fail(error_kind::io, where, ": the file ends at byte offset ", offset, " but ", n,
           " more bytes were expected there: it was truncated while being read; read it again once it is complete");
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
}

// read(2) that retries on EINTR; 0 only at the end.
std::size_t read_some(int fd, std::byte* out, std::size_t n, std::string_view where) {
  for (;;) {
    ssize_t got = ::read(fd, out, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) fail_errno("read", where, errno);
  }
}

int new_memfd(const std::string& name) {
  int fd = ::memfd_create("tensorbridge", MFD_CLOEXEC);
  if (fd < 0) fail_errno("creating an in-memory file", name, errno);
  return fd;
}

// Streams cannot be read at random: their bytes go into an anonymous in-memory file that can.
void spool(int from, int to, const std::string& where) {
  std::vector<std::byte> buffer(std::size_t{1} << 20);
  while (std::size_t got = read_some(from, buffer.data(), buffer.size(), where))
    write_exact(to, {buffer.data(), got}, where);
}

std::string parent_folder(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The process's umask without changing it (umask(2) would race with other threads).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
  return 022;
}

}  // namespace

file_handle file_handle::open_raw(const std::string& path) {
  file_handle f;
  f.path_ = path;
  f.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd_ < 0) fail_errno("open", path, errno);
  struct stat st {};
  if (::fstat(f.fd_, &st) != 0) fail_errno("stat", path, errno);
  if (S_ISDIR(st.st_mode)) fail_directory(path);
  // /proc and /sys files are regular but report size 0 whatever they hold: read them as streams.
  f.regular_ = S_ISREG(st.st_mode) && st.st_size > 0;
  return f;
}

file_handle file_handle::open_read(const std::string& path) {
  file_handle f = open_raw(path);
  if (f.regular_) return f;
  file_handle copy = anonymous(path);
  spool(f.fd_, copy.fd_, path);
  copy.regular_ = true;
  return copy;
}

file_handle file_handle::anonymous(const std::string& name) {
  file_handle f;
  f.path_ = name;
  f.fd_ = new_memfd(name);
  return f;
}

file_handle file_handle::adopt(int fd, const std::string& name) {
  file_handle f;
  f.path_ = name;
  f.fd_ = fd;
  return f;
}

int file_handle::release() noexcept {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

file_handle file_handle::from_bytes(std::span<const std::byte> bytes, const std::string& name) {
  file_handle f = anonymous(name);
  write_exact(f.fd_, bytes, name);
  f.regular_ = true;
  return f;
}

file_handle::~file_handle() { close(); }

file_handle& file_handle::operator=(file_handle&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    regular_ = other.regular_;
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
      fail_write("write", where, errno);
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
      fail_write("write", where, errno);
    }
    p += put;
    n -= static_cast<std::size_t>(put);
  }
}

std::shared_ptr<storage> map_region(int fd, std::uint64_t offset, std::uint64_t size, bool writable_private,
                                    std::string_view where) {
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  // Pages past the end of a file that shrank since it was opened would fault (SIGBUS) on first
  // touch; the size now is the last chance to say so. (A file truncated later, while the mapping
  // lives, still faults, as with np.memmap: the mapping belongs to the caller then.)
  struct stat st {};
  if (::fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) < offset + size)
    fail(error_kind::io, where, ": the data needs bytes up to byte offset ", offset + size, " but the file ends at ",
         st.st_size, ": it was truncated after it was opened; open it again once it is complete");
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

atomic_file::atomic_file(const std::string& path) : path_(path), target_(path) {
  struct stat st {};
  mode_t mode = 0666 & ~current_umask();
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Replace what the link points to, as writing through it would; the link itself stays.
    if (char* real = ::realpath(path.c_str(), nullptr)) {
      target_ = real;
      std::free(real);
    }
  }
  if (::stat(target_.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) fail_directory(path);
    if (!S_ISREG(st.st_mode)) {  // a device or FIFO: written in place at commit
      file_ = file_handle::anonymous(path);
      return;
    }
    mode = st.st_mode & 07777;
  }
  const std::string folder = parent_folder(target_);
  const auto slash = target_.find_last_of('/');
  std::string name = slash == std::string::npos ? target_ : target_.substr(slash + 1);
  // A hidden name beside the target: same file system (rename is atomic), ignored by globs.
  std::string temp = (folder == "/" ? "" : folder) + "/." + name.substr(0, 200) + ".tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR)
      fail(error_kind::not_found, path, ": cannot save: the folder ", folder, " does not exist; create it first");
    if (err == EACCES || err == EPERM || err == EROFS)
      fail(error_kind::permission, path, ": cannot save: creating a file in the folder ", folder, " failed: ",
           std::strerror(err));
    fail_write("creating a temporary file in its folder", path, err);
  }
  temp_ = temp;
  file_ = file_handle::adopt(fd, path);
  if (::fchmod(fd, mode) != 0) fail_write("setting the mode of the new file", path, errno);
}

atomic_file::~atomic_file() {
  if (committed_) return;
  file_.close();
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void atomic_file::commit() {
  if (temp_.empty()) {
    // Not a regular file (a device, a FIFO): nothing to rename over; copy the staged bytes in.
    const int fd = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail_errno("open for writing", path_, errno);
    file_handle out = file_handle::adopt(fd, path_);
    copy_file_to(file_, [&](std::span<const std::byte> bytes) { write_exact(out.fd(), bytes, path_); });
    committed_ = true;
    return;
  }
  // The data must be on disk before the name points at it, or a crash could leave an empty file
  // where the old one was.
  if (::fsync(file_.fd()) != 0) fail_write("fsync", path_, errno);
  if (::close(file_.fd()) != 0) {
    const int err = errno;
    (void)file_.release();
    fail_write("close", path_, err);
  }
  (void)file_.release();
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail_write("renaming the new file into place", path_, errno);
  committed_ = true;
  // Make the rename itself durable; a folder that cannot be synced changes nothing for readers.
  const int dir = ::open(parent_folder(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

void copy_file_to(const file_handle& from, const std::function<void(std::span<const std::byte>)>& sink) {
  const std::uint64_t n = from.size();
  std::vector<std::byte> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(n, std::uint64_t{8} << 20)));
  for (std::uint64_t at = 0; at < n;) {
    const auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(n - at, buffer.size()));
    pread_exact(from.fd(), buffer.data(), piece, at, from.path());
    sink({buffer.data(), piece});
    at += piece;
  }
}

namespace {

// A regular file, read with pread from a position: a shrinking file shows as an early end, which
// is an error rather than a silent short read (or, through a mapping, SIGBUS).
class file_stream final : public byte_stream {
 public:
  explicit file_stream(file_handle f) : file_(std::move(f)), size_at_open_(file_.is_regular() ? file_.size() : 0) {}
  std::size_t read(std::byte* out, std::size_t n) override {
    if (!file_.is_regular()) return read_some(file_.fd(), out, n, file_.path());
    for (;;) {
      ssize_t got = ::pread(file_.fd(), out, std::min<std::size_t>(n, std::size_t{1} << 30), static_cast<off_t>(at_));
      if (got < 0) {
        if (errno == EINTR) continue;
        fail_errno("read", file_.path(), errno);
      }
      if (got == 0 && n > 0 && at_ < size_at_open_)
        fail(error_kind::io, file_.path(), ": the file ends at byte offset ", at_, " but had ", size_at_open_,
             " bytes when it was opened: it was truncated while being read (rotated?); read it again once it is "
             "complete");
      at_ += static_cast<std::uint64_t>(got);
      return static_cast<std::size_t>(got);
    }
  }
  const std::string& where() const override { return file_.path(); }

 private:
  file_handle file_;
  std::uint64_t size_at_open_;
  std::uint64_t at_ = 0;
};

class span_stream final : public byte_stream {
 public:
  span_stream(std::span<const std::byte> bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}
  std::size_t read(std::byte* out, std::size_t n) override {
    n = std::min(n, bytes_.size());
    if (n != 0) std::memcpy(out, bytes_.data(), n);
    bytes_ = bytes_.subspan(n);
    return n;
  }
  const std::string& where() const override { return where_; }

 private:
  std::span<const std::byte> bytes_;
  std::string where_;
};

}  // namespace

std::unique_ptr<byte_stream> open_file_stream(const std::string& path) {
  return std::make_unique<file_stream>(file_handle::open_raw(path));
}

std::unique_ptr<byte_stream> file_stream_of(file_handle file) { return std::make_unique<file_stream>(std::move(file)); }

std::unique_ptr<byte_stream> memory_stream(std::span<const std::byte> bytes, std::string where) {
  return std::make_unique<span_stream>(bytes, std::move(where));
}

std::shared_ptr<storage> read_to_end(byte_stream& in) {
  auto bytes = std::make_shared<std::vector<std::byte>>();
  std::size_t have = 0;
  for (;;) {
    if (bytes->size() - have < (std::size_t{1} << 16)) bytes->resize(std::max<std::size_t>(bytes->size() * 2, 1 << 20));
    const std::size_t got = in.read(bytes->data() + have, bytes->size() - have);
    if (got == 0) break;
    have += got;
  }
  bytes->resize(have);
  bytes->shrink_to_fit();
  return storage::wrap(bytes->data(), have, [bytes] {});
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

namespace tb {

struct atomic_writer::impl {
  std::string path;
  std::optional<detail::atomic_file> file;
  bool done = false;  // committed or discarded
  explicit impl(const std::string& p) : path(p) { file.emplace(p); }
};

atomic_writer::atomic_writer(const std::string& path) : impl_(std::make_unique<impl>(path)) {}
atomic_writer::~atomic_writer() = default;
atomic_writer::atomic_writer(atomic_writer&&) noexcept = default;
atomic_writer& atomic_writer::operator=(atomic_writer&&) noexcept = default;

void atomic_writer::write(std::span<const std::byte> bytes) {
  if (impl_->done) fail(error_kind::value, impl_->path, ": the file was already committed or discarded");
  detail::write_exact(impl_->file->fd(), bytes, impl_->path);
}

void atomic_writer::commit() {
  if (impl_->done) fail(error_kind::value, impl_->path, ": the file was already committed or discarded");
  impl_->file->commit();
  impl_->done = true;
}

void atomic_writer::discard() noexcept {
  impl_->file.reset();
  impl_->done = true;
}

}  // namespace tb
