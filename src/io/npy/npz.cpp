#include <algorithm>
#include <mutex>
#include <set>

#include "io/file_internal.hpp"
#include "io/npy/npy_internal.hpp"
#include "io/npy/remote_internal.hpp"
#include "io/npy/zip_internal.hpp"
#include "io/source/local_internal.hpp"

namespace tb {

struct npz_reader::impl {
  std::unique_ptr<byte_source> source;
  std::string path;
  npy_load_options options;
  std::vector<npz_member> members;
  std::vector<detail::zip_entry> entries;  // same order as `members`
  // Data offsets, learned from each member's local header the first time it is read.
  mutable std::mutex located_mutex;
  mutable std::vector<std::uint64_t> located;  // 0: not yet

  std::size_t find(const std::string& key) const {
    for (std::size_t i = 0; i < members.size(); ++i)
      if (members[i].key == key || members[i].member_name == key) return i;
    std::string names;
    for (const auto& m : members) names += (names.empty() ? "'" : ", '") + m.key + "'";
    fail(error_kind::value, path, ": no array named '", key, "' in the archive; it holds ",
         names.empty() ? std::string("no arrays") : names);
  }

  byte_source& src() const {
    if (!source) fail(error_kind::value, path, ": the npz archive is closed");
    return *source;
  }

  // The member's directory entry with its data located.
  detail::zip_entry entry(std::size_t i) const {
    detail::zip_entry e = entries[i];
    {
      std::lock_guard lock(located_mutex);
      e.data_offset = located[i];
    }
    if (e.data_offset == 0) {
      e.data_offset = detail::locate_member_data(src(), e, path);
      std::lock_guard lock(located_mutex);
      located[i] = e.data_offset;
    }
    return e;
  }

  std::string where(const npz_member& m) const { return path + ":" + m.member_name; }

  bool mapped() const { return options.mmap && src().fd() >= 0; }

  // The CRC-32 of a stored member covers the whole .npy. Data just read is checked in memory,
  // before anything (a byte swap) can change it; the header and any bytes after the data are
  // read again (small). A mapped member is checked by reading the file, not by touching the map,
  // whose pages would fault if the file shrank meanwhile.
  void verify_stored(const detail::zip_entry& e, const detail::npy_region_data& region, std::string_view at) const {
    std::uint32_t crc;
    if (mapped()) {
      crc = detail::crc32_source_range(src(), e.data_offset, e.uncompressed_size, 0, at);
    } else {
      const std::uint64_t head = region.header.data_offset, data = region.header.data_nbytes;
      crc = detail::crc32_source_range(src(), e.data_offset, head, 0, at);
      crc = detail::crc32_update(crc, {region.storage->data() + region.data_offset, static_cast<std::size_t>(data)});
      crc = detail::crc32_source_range(src(), e.data_offset + head + data, e.uncompressed_size - head - data, crc, at);
    }
    detail::check_member_crc(e, crc, at);
  }

  // The member's .npy as (header, storage + data offset): stored members are read or mapped in
  // place; deflated ones are inflated whole into one aligned buffer, header included, so the
  // data sits at the header's (64-byte aligned) offset in it. `plain` refuses a structured
  // member (before reading its data when it is stored).
  detail::npy_region_data read(std::size_t i, bool plain) const {
    const npz_member& m = members[i];
    const detail::zip_entry e = entry(i);
    std::string at = where(m);
    if (!m.compressed) {
      auto header = detail::read_npy_region_header(src(), e.data_offset, m.uncompressed_size, at, options);
      if (plain) detail::reject_structured(header, at);
      auto region = detail::read_npy_region(src(), e.data_offset, header, at, options);
      if (options.verify_crc) verify_stored(e, region, at);
      return region;
    }
    auto buffer = storage::allocate(static_cast<std::size_t>(m.uncompressed_size));
    detail::inflate_member(src(), e, buffer->data(), at, options.verify_crc);
    std::span<const std::byte> bytes(buffer->data(), static_cast<std::size_t>(m.uncompressed_size));
    std::size_t total = detail::npy_header_size(bytes.first(std::min<std::size_t>(bytes.size(), detail::npy_min_prefix)),
                                                m.uncompressed_size, at, options);
    detail::npy_region_data out;
    out.header = detail::parse_npy_header(bytes.first(total), m.uncompressed_size, at, options);
    out.storage = std::move(buffer);
    out.data_offset = out.header.data_offset;
    return out;
  }
};

npz_reader::npz_reader(const std::string& path, const npy_load_options& options)
    : npz_reader((options.validate(), open_source(path, options.storage)), options) {}

npz_reader::npz_reader(std::unique_ptr<byte_source> source, const npy_load_options& options)
    : impl_(std::make_unique<impl>()) {
  options.validate();
  const std::string path = source->where();
  impl_->path = path;
  impl_->options = options;
  impl_->source = std::move(source);
  impl_->entries = detail::read_zip_directory(*impl_->source, path);
  impl_->located.assign(impl_->entries.size(), 0);
  std::set<std::string> seen;
  for (const auto& e : impl_->entries) {
    npz_member m;
    m.member_name = e.name;
    // np.savez names members "<key>.npy"; anything else keeps its full name as its key.
    m.key = e.name.size() > 4 && e.name.ends_with(".npy") ? e.name.substr(0, e.name.size() - 4) : e.name;
    m.compressed = e.method == 8;
    m.compressed_size = e.compressed_size;
    m.uncompressed_size = e.uncompressed_size;
    m.local_header_offset = e.local_header_offset;
    m.crc32 = e.crc32;
    if (!seen.insert(m.key).second)
      fail(error_kind::format, path, ": the archive holds two members named '", m.key, "'");
    impl_->members.push_back(std::move(m));
  }
}

npz_reader::~npz_reader() = default;
npz_reader::npz_reader(npz_reader&&) noexcept = default;
npz_reader& npz_reader::operator=(npz_reader&&) noexcept = default;

const std::string& npz_reader::path() const noexcept { return impl_->path; }

std::vector<std::string> npz_reader::keys() const {
  std::vector<std::string> out;
  for (const auto& m : impl_->members) out.push_back(m.key);
  return out;
}

const std::vector<npz_member>& npz_reader::members() const noexcept { return impl_->members; }

bool npz_reader::contains(const std::string& key) const noexcept {
  return std::any_of(impl_->members.begin(), impl_->members.end(),
                     [&](const npz_member& m) { return m.key == key || m.member_name == key; });
}

std::uint64_t npz_reader::data_offset(const std::string& key) const { return impl_->entry(impl_->find(key)).data_offset; }

npy_header npz_reader::header(const std::string& key) const {
  const std::size_t i = impl_->find(key);
  const npz_member& m = impl_->members[i];
  const detail::zip_entry e = impl_->entry(i);
  std::string at = impl_->where(m);
  if (!m.compressed) return detail::read_npy_region_header(impl_->src(), e.data_offset, m.uncompressed_size, at, impl_->options);
  // Inflate just enough for the header: the prefix first, then the whole header if it is long.
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(m.uncompressed_size, 4096)));
  detail::inflate_member_prefix(impl_->src(), e, head.data(), head.size(), at);
  std::size_t total = detail::npy_header_size(head, m.uncompressed_size, at, impl_->options);
  if (total > head.size()) {
    head.resize(total);
    detail::inflate_member_prefix(impl_->src(), e, head.data(), total, at);
  }
  return detail::parse_npy_header(std::span<const std::byte>(head.data(), total), m.uncompressed_size, at,
                                  impl_->options);
}

tensor npz_reader::load(const std::string& key) const {
  const std::size_t i = impl_->find(key);
  const npz_member& m = impl_->members[i];
  std::string at = impl_->where(m);
  auto region = impl_->read(i, true);
  return detail::finish_npy_tensor(
      detail::npy_view(region.header, std::move(region.storage), region.data_offset, region.read_only), region.header,
      impl_->options, at);
}

std::vector<named_column> npz_reader::load_columns(const std::string& key) const {
  const std::size_t i = impl_->find(key);
  auto region = impl_->read(i, false);
  return detail::npy_columns(region.header, std::move(region.storage), region.data_offset, region.read_only,
                             impl_->options, impl_->where(impl_->members[i]));
}

void npz_reader::close() noexcept { impl_->source.reset(); }

void npz_save_options::validate() const {
  if (compression_level != -1 && (compression_level < 1 || compression_level > 9))
    fail(error_kind::value, "npz_save_options: compression_level must be -1 (zlib's default) or 1..9, not ",
         compression_level);
}

namespace {

void write_npz(int fd, const std::string& where, std::span<const std::pair<std::string, tensor>> arrays,
               const npz_save_options& options) {
  options.validate();
  std::set<std::string> names;
  for (const auto& [name, t] : arrays) {
    if (name.empty()) fail(error_kind::value, "save_npz: an array name is empty");
    if (!names.insert(name).second) fail(error_kind::value, "save_npz: the name '", name, "' is given twice");
  }
  detail::zip_writer zip(fd, where);
  npy_save_options npy;
  for (const auto& item : arrays) {
    const tensor& t = item.second;
    zip.add(item.first + ".npy", detail::npy_size(t, npy), options.compress, options.compression_level,
            [&](const detail::byte_sink& sink) { detail::write_npy(t, npy, sink); });
  }
  zip.finish();
}

npy_or_npz open_npy_or_npz(std::unique_ptr<byte_source> source, const npy_load_options& options) {
  options.validate();
  const std::string where = source->where();
  const std::uint64_t size = source->size();
  std::byte magic[6] = {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof magic));
  source->read_at(magic, n, 0);
  const std::string_view head(reinterpret_cast<const char*>(magic), n);
  npy_or_npz out;
  const array_file_kind kind = detect_array_file(std::span<const std::byte>(magic, n));
  if (kind == array_file_kind::npz) {
    out.archive.emplace(std::move(source), options);
    return out;
  }
  if (kind != array_file_kind::npy) {
    std::string shown;
    for (char c : head) shown += (c >= 32 && c < 127) ? std::string(1, c) : detail::cat("\\x", std::hex, (c & 0xff) < 16 ? "0" : "", c & 0xff);
    fail(error_kind::format, where, ": neither a .npy file (magic \\x93NUMPY) nor an .npz archive (zip); it starts with \"",
         shown, "\"", size == 0 ? " (the file is empty)" : "");
  }
  auto header = detail::read_npy_region_header(*source, 0, size, where, options);
  auto region = detail::read_npy_region(*source, 0, header, where, options);
  out.end = header.data_offset + header.data_nbytes;
  out.columns = detail::npy_columns(region.header, std::move(region.storage), region.data_offset, region.read_only,
                                    options, where);
  return out;
}

}  // namespace

void save_npz(const std::string& path, std::span<const std::pair<std::string, tensor>> arrays,
              const npz_save_options& options) {
  options.validate();
  if (is_remote_path(path))
    return detail::save_remote(path, options.storage, [&](const auto& sink) { save_npz_to(sink, arrays, options); });
  detail::atomic_file file(path);
  write_npz(file.fd(), path, arrays, options);
  file.commit();
}

void save_npz_to(const byte_sink& sink, std::span<const std::pair<std::string, tensor>> arrays,
                 const npz_save_options& options) {
  options.validate();
  auto staged = detail::file_handle::anonymous("<npz in memory>");
  write_npz(staged.fd(), staged.path(), arrays, options);
  detail::copy_file_to(staged, sink);
}

// The first bytes say what a file is: .npy starts with \x93NUMPY, a zip with a local header (or,
// empty, with the end record).
array_file_kind detect_array_file(std::span<const std::byte> head) {
  const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
  if (text.starts_with("PK\x03\x04") || text.starts_with("PK\x05\x06")) return array_file_kind::npz;
  if (text.starts_with(std::string_view("\x93NUMPY", 6))) return array_file_kind::npy;
  return array_file_kind::other;
}

array_file_kind detect_array_file(const std::string& path) {
  const detail::file_handle file = detail::file_handle::open_read(path);
  std::byte magic[6] = {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), sizeof magic));
  detail::pread_exact(file.fd(), magic, n, 0, file.path());
  return detect_array_file(std::span<const std::byte>(magic, n));
}

npy_or_npz load_npy_or_npz(const std::string& path, const npy_load_options& options) {
  options.validate();
  return open_npy_or_npz(open_source(path, options.storage), options);
}

npy_or_npz load_npy_or_npz_bytes(std::span<const std::byte> bytes, const std::string& name,
                                 const npy_load_options& options) {
  options.validate();
  return open_npy_or_npz(detail::file_source_of(detail::file_handle::from_bytes(bytes, name)), options);
}

}  // namespace tb
