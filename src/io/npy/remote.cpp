// .npy / .npz over remote byte sources (see remote_internal.hpp).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "io/file_internal.hpp"
#include "io/npy/remote_internal.hpp"
#include "io/npy/npy_internal.hpp"

namespace tb::detail {

namespace {

// The source's bytes written straight into a mapped anonymous file.
file_handle fetch_source_file(byte_source& source) {
  file_handle file = file_handle::anonymous(source.where());
  const std::uint64_t size = source.size();
  if (::ftruncate(file.fd(), static_cast<off_t>(size)) != 0) fail_errno("sizing an in-memory file", source.where(), errno);
  if (size != 0) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd(), 0);
    if (p == MAP_FAILED) fail_errno("mmap", source.where(), errno);
    try {
      source.read_at(p, static_cast<std::size_t>(size), 0);
    } catch (...) {
      ::munmap(p, size);
      throw;
    }
    ::munmap(p, size);
  }
  return file;
}

}  // namespace

file_handle fetch_remote_file(const std::string& path, const storage_options& options) {
  return fetch_source_file(*open_source(path, options));
}

npy_header read_npy_source_header(byte_source& source, const npy_load_options& options) {
  options.validate();
  const std::uint64_t size = source.size();
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 4096)));
  source.read_at(head.data(), head.size(), 0);
  const std::size_t total = npy_header_size(head, size, source.where(), options);
  if (total > head.size()) {
    const std::size_t have = head.size();
    head.resize(total);
    source.read_at(head.data() + have, total - have, have);
  }
  return parse_npy_header(std::span<const std::byte>(head.data(), total), size, source.where(), options);
}

npy_or_npz load_remote_npy_or_npz(const std::string& path, const npy_load_options& options) {
  options.validate();
  // mmap (and copy_on_write) concern local files: a remote object is always read into memory.
  auto source = open_source(path, options.storage);
  const std::string& where = source->where();
  const std::uint64_t size = source->size();
  std::byte magic[6] = {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof magic));
  source->read_at(magic, n, 0);
  const std::string_view head(reinterpret_cast<const char*>(magic), n);
  npy_or_npz out;
  if (head.starts_with("PK")) {
    out.archive.emplace(fetch_source_file(*source), options);
    return out;
  }
  if (head != std::string_view("\x93NUMPY", 6))
    fail(error_kind::format, where, ": neither a .npy file (magic \\x93NUMPY) nor an .npz archive (zip)",
         size == 0 ? " (the object is empty)" : "");
  const npy_header header = read_npy_source_header(*source, options);
  auto data = storage::allocate(static_cast<std::size_t>(header.data_nbytes));
  source->read_at(data->data(), static_cast<std::size_t>(header.data_nbytes), header.data_offset);
  out.end = header.data_offset + header.data_nbytes;
  out.columns = npy_columns(header, std::move(data), 0, false, options, where);
  return out;
}

void save_remote(const std::string& path, const storage_options& options,
                 const std::function<void(const std::function<void(std::span<const std::byte>)>&)>& write) {
  object_writer out(path, options);
  write([&](std::span<const std::byte> bytes) { out.write(bytes); });
  out.commit();
}

}  // namespace tb::detail
