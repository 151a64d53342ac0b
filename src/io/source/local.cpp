// Local byte sources: a file read with pread, bytes in memory; local folder listings; and
// `open_source` / `list_objects`, which pick the local or the remote kind by the path.
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "io/file_internal.hpp"
#include "io/source/local_internal.hpp"
#include "io/source/remote_internal.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb {

namespace {

void check_range(std::uint64_t offset, std::size_t n, std::uint64_t size, const std::string& where) {
  if (offset > size || n > size - offset)
    fail(error_kind::io, where, ": a read of ", n, " bytes at byte offset ", offset, " goes past the end (",
         size, " bytes)");
}

class file_source final : public byte_source {
 public:
  explicit file_source(detail::file_handle file) : file_(std::move(file)), size_(file_.size()) {}
  std::uint64_t size() const override { return size_; }
  void read_at(void* out, std::size_t n, std::uint64_t offset) override {
    check_range(offset, n, size_, file_.path());
    detail::pread_exact(file_.fd(), out, n, offset, file_.path());
  }
  const std::string& where() const override { return file_.path(); }
  int fd() const noexcept override { return file_.fd(); }

 private:
  detail::file_handle file_;
  std::uint64_t size_;
};

class span_source final : public byte_source {
 public:
  span_source(std::span<const std::byte> bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}
  std::uint64_t size() const override { return bytes_.size(); }
  void read_at(void* out, std::size_t n, std::uint64_t offset) override {
    check_range(offset, n, bytes_.size(), where_);
    if (n != 0) std::memcpy(out, bytes_.data() + offset, n);
  }
  const std::string& where() const override { return where_; }

 private:
  std::span<const std::byte> bytes_;
  std::string where_;
};

}  // namespace

std::unique_ptr<byte_source> detail::file_source_of(file_handle file) {
  return std::make_unique<file_source>(std::move(file));
}

std::unique_ptr<byte_source> open_source(const std::string& path, const storage_options& options) {
  if (is_remote_path(path))
    return options.cache_dir.empty() ? detail::open_remote_source(path, options) : detail::open_cached_source(path, options);
  return detail::file_source_of(detail::file_handle::open_read(path));
}

std::unique_ptr<byte_source> memory_source(std::span<const std::byte> bytes, std::string where) {
  return std::make_unique<span_source>(bytes, std::move(where));
}

std::vector<object_info> list_objects(const std::string& prefix, const storage_options& options) {
  if (is_remote_path(prefix)) return detail::list_remote(prefix, options);
  namespace fs = std::filesystem;
  std::vector<object_info> out;
  std::error_code ec;
  if (!fs::is_directory(prefix, ec)) fail(error_kind::not_found, prefix, ": no such folder");
  for (auto it = fs::recursive_directory_iterator(prefix, fs::directory_options::follow_directory_symlink, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) out.push_back({it->path().string(), static_cast<std::uint64_t>(it->file_size(ec)), {}});
  if (ec) fail(error_kind::io, prefix, ": listing failed: ", ec.message());
  std::sort(out.begin(), out.end(), [](const object_info& a, const object_info& b) { return a.path < b.path; });
  return out;
}

}  // namespace tb
