// The local cache of remote objects (`storage_options::cache_dir`), for data read again in later
// epochs.
//
// - An object's entry is `<id>.meta` (id: a hash of its URL and endpoint) naming its ETag, size
//   and the file holding that version, `<id>-<hash of the ETag>.bin`. Both are written under a
//   temporary name and renamed into place (atomic_file), the data first: a reader never sees a
//   partial file, and concurrent readers of the same object at worst both fetch it.
// - Opening sends one ranged GET of one byte (size + ETag). The same ETag and size: the cached
//   file is read. Anything else: the object is fetched (parallel ranged GETs pinned to the ETag,
//   straight into the new file) and the entry updated. A server that cannot be reached (an io
//   error, after the retries) leaves the cached copy to be read unchecked; missing objects and
//   refused credentials are errors as without a cache.

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>

#include "io/file_internal.hpp"
#include "io/source/local_internal.hpp"
#include "io/source/remote_internal.hpp"
#include "tensorbridge/core/error.hpp"

namespace tb::detail {

namespace {

constexpr const char* magic = "tensorbridge-cache 1";

std::string hash_hex(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

struct cache_entry {
  std::string etag;
  std::uint64_t size = 0;
  std::string data;  // file name of this version, in the cache folder
};

std::optional<cache_entry> read_entry(const std::string& meta) {
  std::ifstream in(meta);
  std::string first, size;
  cache_entry e;
  if (!std::getline(in, first) || first != magic || !std::getline(in, e.etag) || !std::getline(in, size) ||
      !std::getline(in, e.data) || e.data.empty() || e.data.find('/') != std::string::npos)
    return std::nullopt;
  e.size = std::strtoull(size.c_str(), nullptr, 10);
  return e;
}

void write_whole(const std::string& path, std::span<const std::byte> bytes) {
  atomic_file f(path);
  write_exact(f.fd(), bytes, path);
  f.commit();
}

// A cached copy read as the remote object: messages name the URL, `etag()` its version.
class cached_copy final : public byte_source {
 public:
  cached_copy(std::unique_ptr<byte_source> file, std::string where, std::string etag)
      : file_(std::move(file)), where_(std::move(where)), etag_(std::move(etag)) {}
  std::uint64_t size() const override { return file_->size(); }
  void read_at(void* out, std::size_t n, std::uint64_t offset) override { file_->read_at(out, n, offset); }
  const std::string& where() const override { return where_; }
  std::string etag() const override { return etag_; }
  int fd() const noexcept override { return file_->fd(); }

 private:
  std::unique_ptr<byte_source> file_;
  std::string where_;
  std::string etag_;
};

// The cached version `e`, or null when its file is missing or not the size recorded.
std::unique_ptr<byte_source> open_copy(const std::string& folder, const cache_entry& e, const std::string& where) {
  std::error_code ec;
  const std::string path = folder + "/" + e.data;
  if (std::filesystem::file_size(path, ec) != e.size || ec) return nullptr;
  return std::make_unique<cached_copy>(file_source_of(file_handle::open_read(path)), where, e.etag);
}

// Fetches all of `remote` into the new file `path`.
void fetch_into(byte_source& remote, const std::string& path) {
  atomic_file f(path);
  const std::uint64_t size = remote.size();
  if (::ftruncate(f.fd(), static_cast<off_t>(size)) != 0) fail_errno("sizing a cache file", path, errno);
  if (size != 0) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, f.fd(), 0);
    if (p == MAP_FAILED) fail_errno("mmap", path, errno);
    try {
      remote.read_at(p, static_cast<std::size_t>(size), 0);
    } catch (...) {
      ::munmap(p, size);
      throw;
    }
    ::munmap(p, size);
  }
  f.commit();
}

}  // namespace

std::unique_ptr<byte_source> open_cached_source(const std::string& path, const storage_options& options) {
  storage_options direct = options;
  direct.cache_dir.clear();
  const std::string folder = options.cache_dir;
  const std::string where = safe_where(path);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) fail(error_kind::io, folder, ": cannot create the cache folder (storage_options.cache_dir): ", ec.message());
  const std::string id = hash_hex(where + "\n" + options.endpoint_url.value_or(""));
  const std::string meta = folder + "/" + id + ".meta";
  const std::optional<cache_entry> cached = read_entry(meta);
  std::unique_ptr<byte_source> remote;
  try {
    remote = open_remote_source(path, direct, 1);
  } catch (const error& e) {
    if (e.kind() == error_kind::io && cached)
      if (auto copy = open_copy(folder, *cached, where)) return copy;
    throw;
  }
  const std::string etag = remote->etag();
  if (etag.empty()) return remote;  // nothing to check a copy against
  if (cached && cached->etag == etag && cached->size == remote->size())
    if (auto copy = open_copy(folder, *cached, where)) return copy;
  cache_entry fresh{etag, remote->size(), id + "-" + hash_hex(etag) + ".bin"};
  fetch_into(*remote, folder + "/" + fresh.data);
  const std::string text = std::string(magic) + "\n" + fresh.etag + "\n" + std::to_string(fresh.size) + "\n" +
                           fresh.data + "\n";
  write_whole(meta, std::as_bytes(std::span<const char>(text.data(), text.size())));
  if (cached && cached->data != fresh.data) std::filesystem::remove(folder + "/" + cached->data, ec);
  auto copy = open_copy(folder, fresh, where);
  if (!copy) fail(error_kind::io, folder + "/" + fresh.data, ": the cache file just written is missing or short");
  return copy;
}

}  // namespace tb::detail
