#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/parallel_internal.hpp"
#include "io/npy/zip_internal.hpp"

namespace tb::detail {
namespace {

constexpr std::uint32_t sig_local = 0x04034b50;
constexpr std::uint32_t sig_central = 0x02014b50;
constexpr std::uint32_t sig_end = 0x06054b50;
constexpr std::uint32_t sig_end64 = 0x06064b50;
constexpr std::uint32_t sig_locator64 = 0x07064b50;
constexpr std::size_t end_size = 22;
constexpr std::size_t locator64_size = 20;
constexpr std::size_t end64_size = 56;
constexpr std::size_t central_size = 46;
constexpr std::size_t local_size = 30;
constexpr std::uint16_t zip64_extra_id = 0x0001;
constexpr std::uint16_t version_zip64 = 45;

// Little-endian field access over a bounds-checked byte range.
class reader {
 public:
  reader(std::span<const std::byte> bytes, std::uint64_t file_offset, std::string_view where, std::string_view what)
      : bytes_(bytes), base_(file_offset), where_(where), what_(what) {}

  std::uint64_t get(std::size_t at, std::size_t n) const {
    if (at > bytes_.size() || n > bytes_.size() - at)
      fail(error_kind::format, where_, ": corrupt zip archive: the ", what_, " at byte offset ", base_,
           " is truncated (needs byte ", base_ + at + n, ")");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(bytes_[at + i]) << (8 * i);
    return v;
  }
  std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(get(at, 2)); }
  std::uint32_t u32(std::size_t at) const { return static_cast<std::uint32_t>(get(at, 4)); }
  std::uint64_t u64(std::size_t at) const { return get(at, 8); }
  std::span<const std::byte> sub(std::size_t at, std::size_t n) const {
    get(at, 0);
    if (n > bytes_.size() - at) get(at, n);
    return bytes_.subspan(at, n);
  }

 private:
  std::span<const std::byte> bytes_;
  std::uint64_t base_;
  std::string_view where_;
  std::string_view what_;
};

[[noreturn]] void corrupt(std::string_view where, std::uint64_t offset, std::string_view what) {
  fail(error_kind::format, where, ": corrupt zip archive at byte offset ", offset, ": ", what,
       "; the .npz file is damaged or not a zip archive");
}

// The archive's tail (read once at opening); reads that fall inside it cost no request.
struct tail_cache {
  byte_source& source;
  std::vector<std::byte> bytes;
  std::uint64_t start = 0;

  std::vector<std::byte> read(std::uint64_t offset, std::size_t n) const {
    std::vector<std::byte> v(n);
    if (offset >= start && offset - start <= bytes.size() && n <= bytes.size() - (offset - start)) {
      if (n != 0) std::memcpy(v.data(), bytes.data() + (offset - start), n);
    } else {
      source.read_at(v.data(), n, offset);
    }
    return v;
  }
};

struct end_record {
  std::uint64_t entries = 0;
  std::uint64_t cd_size = 0;
  std::uint64_t cd_offset = 0;
  std::uint64_t position = 0;  // where the directory must end (the first end record)
};

end_record find_end(tail_cache& cache, std::uint64_t file_size, std::string_view where) {
  if (file_size < end_size)
    fail(error_kind::format, where, ": not a zip archive (", file_size, " bytes, fewer than the 22-byte end record)");
  // The end record sits in the last 22 + 65535 (longest comment) bytes.
  std::size_t tail_size = static_cast<std::size_t>(std::min<std::uint64_t>(file_size, end_size + 65535));
  std::uint64_t tail_start = file_size - tail_size;
  cache.bytes.resize(tail_size);
  cache.start = tail_start;
  cache.source.read_at(cache.bytes.data(), tail_size, tail_start);
  const std::vector<std::byte>& tail = cache.bytes;
  auto read_bytes = [&](std::uint64_t offset, std::size_t n) { return cache.read(offset, n); };
  reader r(tail, tail_start, where, "end of central directory record");
  std::size_t at = tail_size - end_size + 1;
  while (at-- > 0) {
    if (r.u32(at) != sig_end) continue;
    if (at + end_size + r.u16(at + 20) > tail_size) continue;  // comment would run past the end
    end_record e;
    e.position = tail_start + at;
    std::uint16_t disk = r.u16(at + 4), cd_disk = r.u16(at + 6);
    e.entries = r.u16(at + 10);
    e.cd_size = r.u32(at + 12);
    e.cd_offset = r.u32(at + 16);
    bool zip64 = e.entries == 0xFFFF || e.cd_size == 0xFFFFFFFF || e.cd_offset == 0xFFFFFFFF || disk == 0xFFFF;
    if (zip64 || e.position >= locator64_size) {
      // A zip64 locator just before the end record overrides the 16/32-bit fields.
      if (e.position >= locator64_size) {
        auto loc = read_bytes(e.position - locator64_size, locator64_size);
        reader lr(loc, e.position - locator64_size, where, "zip64 end locator");
        if (lr.u32(0) == sig_locator64) {
          std::uint64_t end64_offset = lr.u64(8);
          if (end64_offset > e.position - locator64_size || e.position - locator64_size - end64_offset < end64_size)
            corrupt(where, e.position - locator64_size, "the zip64 locator points past the end of the file");
          auto rec = read_bytes(end64_offset, end64_size);
          reader er(rec, end64_offset, where, "zip64 end record");
          if (er.u32(0) != sig_end64) corrupt(where, end64_offset, "bad zip64 end record signature");
          if (er.u32(16) != 0 || er.u32(20) != 0) corrupt(where, end64_offset, "multi-disk archives are not supported");
          e.entries = er.u64(32);
          e.cd_size = er.u64(40);
          e.cd_offset = er.u64(48);
          e.position = end64_offset;
          return e;
        }
      }
      if (zip64) corrupt(where, e.position, "the end record needs a zip64 locator, which is missing");
    }
    if (disk != 0 || cd_disk != 0) corrupt(where, e.position, "multi-disk archives are not supported");
    return e;
  }
  fail(error_kind::format, where, ": not a zip archive: no end of central directory record in the last ", tail_size,
       " bytes (truncated, or not an .npz file)");
}

// Fills 0xFFFFFFFF fields from the zip64 extra field, in the order the spec fixes.
void apply_zip64_extra(std::span<const std::byte> extra, std::uint64_t extra_offset, zip_entry& e, bool& need_usize,
                       bool& need_csize, bool& need_offset, std::string_view where) {
  reader r(extra, extra_offset, where, "extra field");
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    std::uint16_t id = r.u16(at), size = r.u16(at + 2);
    if (at + 4 + size > extra.size()) corrupt(where, extra_offset + at, "an extra field runs past its block");
    if (id == zip64_extra_id) {
      std::size_t p = at + 4, end = at + 4 + size;
      auto take = [&](bool& need, std::uint64_t& field) {
        if (!need) return;
        if (p + 8 > end) corrupt(where, extra_offset + at, "the zip64 extra field is too short");
        field = r.u64(p);
        p += 8;
        need = false;
      };
      take(need_usize, e.uncompressed_size);
      take(need_csize, e.compressed_size);
      take(need_offset, e.local_header_offset);
    }
    at += 4 + size;
  }
}

}  // namespace

std::vector<zip_entry> read_zip_directory(byte_source& source, std::string_view where) {
  tail_cache tail{source, {}, 0};
  end_record end = find_end(tail, source.size(), where);
  if (end.cd_offset > end.position || end.cd_size > end.position - end.cd_offset)
    corrupt(where, end.position, "the central directory offset/size point past the end record");
  if (end.entries > end.cd_size / central_size)
    corrupt(where, end.position, "the entry count does not fit in the central directory");
  auto cd = tail.read(end.cd_offset, static_cast<std::size_t>(end.cd_size));
  reader r(cd, end.cd_offset, where, "central directory");
  std::vector<zip_entry> entries;
  entries.reserve(static_cast<std::size_t>(end.entries));
  std::size_t at = 0;
  for (std::uint64_t i = 0; i < end.entries; ++i) {
    std::uint64_t here = end.cd_offset + at;
    if (r.u32(at) != sig_central) corrupt(where, here, "bad central directory entry signature");
    zip_entry e;
    std::uint16_t flags = r.u16(at + 8);
    e.method = r.u16(at + 10);
    e.crc32 = r.u32(at + 16);
    e.compressed_size = r.u32(at + 20);
    e.uncompressed_size = r.u32(at + 24);
    std::uint16_t name_len = r.u16(at + 28), extra_len = r.u16(at + 30), comment_len = r.u16(at + 32);
    std::uint16_t disk = r.u16(at + 34);
    e.local_header_offset = r.u32(at + 42);
    auto name = r.sub(at + central_size, name_len);
    e.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    bool need_usize = e.uncompressed_size == 0xFFFFFFFF, need_csize = e.compressed_size == 0xFFFFFFFF,
         need_offset = e.local_header_offset == 0xFFFFFFFF;
    apply_zip64_extra(r.sub(at + central_size + name_len, extra_len), here + central_size + name_len, e, need_usize,
                      need_csize, need_offset, where);
    if (need_usize || need_csize || need_offset)
      corrupt(where, here, "a 0xFFFFFFFF size or offset has no zip64 extra field");
    if (disk != 0 && disk != 0xFFFF) corrupt(where, here, "multi-disk archives are not supported");
    if (flags & 0x1) fail(error_kind::format, where, ": member '", e.name, "' is encrypted, which is not supported");
    if (e.method != 0 && e.method != 8)
      fail(error_kind::format, where, ": member '", e.name, "' uses compression method ", e.method,
           "; only stored (0) and deflated (8) members are supported (what np.savez/np.savez_compressed write)");
    if (e.method == 0 && e.compressed_size != e.uncompressed_size)
      corrupt(where, here, detail::cat("stored member '", e.name, "' has different compressed (", e.compressed_size,
                                       ") and uncompressed (", e.uncompressed_size, ") sizes"));
    if (e.method == 8 && e.uncompressed_size / max_deflate_ratio > e.compressed_size + 1)
      corrupt(where, here, detail::cat("member '", e.name, "' claims to inflate ", e.compressed_size, " bytes to ",
                                       e.uncompressed_size, ", more than deflate can expand (a zip bomb, or lying sizes)"));
    if (e.local_header_offset > end.cd_offset || end.cd_offset - e.local_header_offset < local_size)
      corrupt(where, here, detail::cat("member '", e.name, "' has a local header offset past the data area"));
    e.data_end = end.cd_offset;
    entries.push_back(std::move(e));
    at += central_size + name_len + extra_len + comment_len;
  }
  return entries;
}

std::uint64_t locate_member_data(byte_source& source, const zip_entry& e, std::string_view where) {
  // The local header repeats the name and may carry a different extra field: the data starts
  // after both, so it must be read.
  std::byte local[local_size];
  source.read_at(local, local_size, e.local_header_offset);
  reader lr(local, e.local_header_offset, where, "local header");
  if (lr.u32(0) != sig_local) corrupt(where, e.local_header_offset, "bad local header signature");
  const std::uint64_t data_offset = e.local_header_offset + local_size + lr.u16(26) + lr.u16(28);
  if (data_offset > e.data_end || e.compressed_size > e.data_end - data_offset)
    corrupt(where, e.local_header_offset,
            detail::cat("member '", e.name, "' (", e.compressed_size, " bytes) runs past the data area"));
  return data_offset;
}

namespace {

// Inflates until `limit` bytes are out; with `limit` == the declared size it also checks the
// stream's end and CRC.
void inflate_into(byte_source& source, const zip_entry& entry, std::byte* out, std::uint64_t limit, std::string_view where,
                  bool check_crc) {
  const bool whole = limit == entry.uncompressed_size;
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(error_kind::value, where, ": cannot initialise zlib");
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&z};
  constexpr std::size_t chunk = std::size_t{1} << 22;
  std::vector<std::byte> input(static_cast<std::size_t>(
      std::min<std::uint64_t>(whole ? chunk : std::max<std::uint64_t>(limit, 4096), entry.compressed_size)));
  std::uint64_t consumed = 0;
  std::uint64_t produced = 0;
  std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, nullptr, 0));
  std::byte overflow[1];
  bool done = false;
  while (!done && (whole || produced < limit)) {
    if (z.avail_in == 0 && consumed < entry.compressed_size) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(input.size(), entry.compressed_size - consumed));
      source.read_at(input.data(), n, entry.data_offset + consumed);
      consumed += n;
      z.next_in = reinterpret_cast<Bytef*>(input.data());
      z.avail_in = static_cast<uInt>(n);
    }
    // Output goes straight into the tensor; one spare byte past the declared size detects a
    // member that inflates to more than its directory claims.
    std::uint64_t room = limit - produced;
    std::byte* dst = room > 0 ? out + produced : overflow;
    uInt avail = room > 0 ? static_cast<uInt>(std::min<std::uint64_t>(room, 1u << 30)) : 1;
    z.next_out = reinterpret_cast<Bytef*>(dst);
    z.avail_out = avail;
    int rc = inflate(&z, Z_NO_FLUSH);
    std::size_t got = avail - z.avail_out;
    if (room == 0 && got > 0)
      corrupt(where, entry.data_offset,
              detail::cat("member '", entry.name, "' inflates to more than the ", entry.uncompressed_size,
                          " bytes its directory entry declares"));
    crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(dst), got));
    produced += got;
    if (rc == Z_STREAM_END) {
      done = true;
    } else if (rc == Z_BUF_ERROR && got == 0 && (z.avail_in > 0 || consumed >= entry.compressed_size)) {
      corrupt(where, entry.data_offset + consumed,
              detail::cat("the deflate stream of member '", entry.name, "' ends early (truncated)"));
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      corrupt(where, entry.data_offset + (consumed - z.avail_in),
              detail::cat("invalid deflate data in member '", entry.name, "'", z.msg ? ": " : "", z.msg ? z.msg : ""));
    }
  }
  if (!whole) {
    if (produced < limit)
      corrupt(where, entry.data_offset,
              detail::cat("member '", entry.name, "' inflates to ", produced, " bytes but its directory entry declares ",
                          entry.uncompressed_size));
    return;
  }
  if (produced != entry.uncompressed_size)
    corrupt(where, entry.data_offset,
            detail::cat("member '", entry.name, "' inflates to ", produced, " bytes but its directory entry declares ",
                        entry.uncompressed_size));
  if (check_crc) check_member_crc(entry, crc, where);
}

}  // namespace

void inflate_member(byte_source& source, const zip_entry& entry, std::byte* out, std::string_view where,
                    bool check_crc) {
  inflate_into(source, entry, out, entry.uncompressed_size, where, check_crc);
}

void inflate_member_prefix(byte_source& source, const zip_entry& entry, std::byte* out, std::size_t n,
                           std::string_view where) {
  inflate_into(source, entry, out, std::min<std::uint64_t>(n, entry.uncompressed_size), where, false);
}

namespace {

// Large ranges are checked in fixed 4 MiB blocks on every library thread and the blocks' CRCs
// joined with crc32_combine: zlib's table-driven crc32 runs at about 1-2 GB/s on one core, slower
// than reading from the page cache.
constexpr std::uint64_t crc_block = std::uint64_t{1} << 22;

// CRC-32 of `n` bytes in blocks of `crc_block`, where `block_crc(i, size)` gives block i's CRC.
std::uint32_t crc32_blocks(std::uint32_t crc, std::uint64_t n,
                           const std::function<std::uint32_t(std::uint64_t, std::size_t)>& block_crc) {
  const std::uint64_t blocks = (n + crc_block - 1) / crc_block;
  std::vector<std::uint32_t> crcs(static_cast<std::size_t>(blocks));
  auto size_of = [&](std::uint64_t i) { return static_cast<std::size_t>(std::min(crc_block, n - i * crc_block)); };
  parallel_for(static_cast<std::int64_t>(blocks), 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i)
      crcs[static_cast<std::size_t>(i)] = block_crc(static_cast<std::uint64_t>(i), size_of(static_cast<std::uint64_t>(i)));
  });
  for (std::uint64_t i = 0; i < blocks; ++i)
    crc = static_cast<std::uint32_t>(crc32_combine(crc, crcs[i], static_cast<z_off_t>(size_of(i))));
  return crc;
}

std::uint32_t crc32_of(std::uint32_t crc, const std::byte* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(p), n));
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> bytes) {
  if (bytes.size() <= crc_block) return crc32_of(crc, bytes.data(), bytes.size());
  return crc32_blocks(crc, bytes.size(), [&](std::uint64_t i, std::size_t size) {
    return crc32_of(0, bytes.data() + i * crc_block, size);
  });
}

std::uint32_t crc32_source_range(byte_source& source, std::uint64_t offset, std::uint64_t n, std::uint32_t crc,
                                 std::string_view) {
  return crc32_blocks(crc, n, [&](std::uint64_t i, std::size_t size) {
    std::vector<std::byte> buffer(size);
    source.read_at(buffer.data(), size, offset + i * crc_block);
    return crc32_of(0, buffer.data(), size);
  });
}

void check_member_crc(const zip_entry& entry, std::uint32_t actual, std::string_view where) {
  if (actual == entry.crc32) return;
  char recorded[11], computed[11];
  std::snprintf(recorded, sizeof recorded, "0x%08x", static_cast<unsigned>(entry.crc32));
  std::snprintf(computed, sizeof computed, "0x%08x", static_cast<unsigned>(actual));
  fail(error_kind::format, where, ": CRC-32 mismatch in member '", entry.name, "' (byte offset ", entry.data_offset,
       "): the archive records ", recorded, " but the member's bytes give ", computed,
       "; the .npz file is damaged. Pass verify_crc=False to read the bytes anyway");
}

namespace {

// Little-endian field writer.
struct bytes_out {
  std::vector<std::byte> v;
  void u16(std::uint64_t x) { put(x, 2); }
  void u32(std::uint64_t x) { put(x, 4); }
  void u64(std::uint64_t x) { put(x, 8); }
  void put(std::uint64_t x, int n) {
    for (int i = 0; i < n; ++i) v.push_back(static_cast<std::byte>((x >> (8 * i)) & 0xFF));
  }
  void text(std::string_view s) {
    for (char c : s) v.push_back(static_cast<std::byte>(c));
  }
};

constexpr std::uint16_t dos_date_1980 = 0x21;  // 1980-01-01, what zipfile writes for a zero time

}  // namespace

void zip_writer::put(std::span<const std::byte> bytes) {
  write_exact(fd_, bytes, where_);
  position_ += bytes.size();
}

void zip_writer::add(const std::string& name, std::uint64_t size, bool compress, int level,
                     const std::function<void(const byte_sink&)>& produce) {
  if (name.size() > 0xFFFF) fail(error_kind::value, "save_npz: member name too long: ", name.size(), " bytes");
  zip_entry e;
  e.name = name;
  e.method = compress ? 8 : 0;
  e.uncompressed_size = size;
  e.local_header_offset = position_;
  // Local header with zip64 extra (uncompressed, compressed); CRC and compressed size are patched
  // in once the data is written, so no data descriptor is needed.
  bytes_out h;
  h.u32(sig_local);
  h.u16(version_zip64);
  h.u16(name.size() == 0 || std::all_of(name.begin(), name.end(), [](char c) { return (c & 0x80) == 0; }) ? 0 : 0x800);
  h.u16(e.method);
  h.u16(0);
  h.u16(dos_date_1980);
  h.u32(0);
  h.u32(0xFFFFFFFF);
  h.u32(0xFFFFFFFF);
  h.u16(name.size());
  h.u16(20);
  h.text(name);
  h.u16(zip64_extra_id);
  h.u16(16);
  h.u64(size);
  h.u64(0);
  put(h.v);
  e.data_offset = position_;

  std::uint32_t crc = static_cast<std::uint32_t>(crc32(0, nullptr, 0));
  std::uint64_t seen = 0;
  if (!compress) {
    produce([&](std::span<const std::byte> bytes) {
      crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
      seen += bytes.size();
      put(bytes);
    });
  } else {
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      fail(error_kind::value, "save_npz: cannot initialise zlib at level ", level);
    struct guard {
      z_stream* z;
      ~guard() { deflateEnd(z); }
    } g{&z};
    std::vector<std::byte> buffer(std::size_t{1} << 20);
    auto pump = [&](const std::byte* p, std::size_t n, int flush) {
      z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(p));
      z.avail_in = static_cast<uInt>(n);
      do {
        z.next_out = reinterpret_cast<Bytef*>(buffer.data());
        z.avail_out = static_cast<uInt>(buffer.size());
        deflate(&z, flush);
        put({buffer.data(), buffer.size() - z.avail_out});
      } while (z.avail_out == 0 || (flush == Z_FINISH && z.avail_in > 0));
    };
    produce([&](std::span<const std::byte> bytes) {
      crc = static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
      seen += bytes.size();
      // zlib counts input in uInt: feed large pieces in slices.
      for (std::size_t done = 0; done < bytes.size(); done += std::size_t{1} << 30)
        pump(bytes.data() + done, std::min<std::size_t>(bytes.size() - done, std::size_t{1} << 30), Z_NO_FLUSH);
    });
    int rc;
    do {
      z.next_in = nullptr;
      z.avail_in = 0;
      z.next_out = reinterpret_cast<Bytef*>(buffer.data());
      z.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&z, Z_FINISH);
      put({buffer.data(), buffer.size() - z.avail_out});
    } while (rc != Z_STREAM_END);
  }
  if (seen != size)
    fail(error_kind::value, "save_npz: member '", name, "' produced ", seen, " bytes, expected ", size);
  e.crc32 = crc;
  e.compressed_size = position_ - e.data_offset;
  bytes_out patch;
  patch.u32(crc);
  pwrite_exact(fd_, patch.v.data(), 4, e.local_header_offset + 14, where_);
  bytes_out csize;
  csize.u64(e.compressed_size);
  pwrite_exact(fd_, csize.v.data(), 8, e.local_header_offset + local_size + name.size() + 12, where_);
  entries_.push_back(std::move(e));
}

void zip_writer::finish() {
  std::uint64_t cd_offset = position_;
  for (const auto& e : entries_) {
    bytes_out c;
    c.u32(sig_central);
    c.u16(version_zip64 | (3 << 8));  // made by: Unix
    c.u16(version_zip64);
    c.u16(std::all_of(e.name.begin(), e.name.end(), [](char ch) { return (ch & 0x80) == 0; }) ? 0 : 0x800);
    c.u16(e.method);
    c.u16(0);
    c.u16(dos_date_1980);
    c.u32(e.crc32);
    c.u32(0xFFFFFFFF);
    c.u32(0xFFFFFFFF);
    c.u16(e.name.size());
    c.u16(28);
    c.u16(0);
    c.u16(0);
    c.u16(0);
    c.u32(0100644u << 16);  // a regular file, rw-r--r--
    c.u32(0xFFFFFFFF);
    c.text(e.name);
    c.u16(zip64_extra_id);
    c.u16(24);
    c.u64(e.uncompressed_size);
    c.u64(e.compressed_size);
    c.u64(e.local_header_offset);
    put(c.v);
  }
  std::uint64_t cd_size = position_ - cd_offset;
  std::uint64_t count = entries_.size();
  bool zip64 = count >= 0xFFFF || cd_size >= 0xFFFFFFFF || cd_offset >= 0xFFFFFFFF;
  bytes_out t;
  if (zip64) {
    std::uint64_t end64_offset = position_;
    t.u32(sig_end64);
    t.u64(end64_size - 12);
    t.u16(version_zip64);
    t.u16(version_zip64);
    t.u32(0);
    t.u32(0);
    t.u64(count);
    t.u64(count);
    t.u64(cd_size);
    t.u64(cd_offset);
    t.u32(sig_locator64);
    t.u32(0);
    t.u64(end64_offset);
    t.u32(1);
  }
  t.u32(sig_end);
  t.u16(0);
  t.u16(0);
  t.u16(std::min<std::uint64_t>(count, 0xFFFF));
  t.u16(std::min<std::uint64_t>(count, 0xFFFF));
  t.u32(std::min<std::uint64_t>(cd_size, 0xFFFFFFFF));
  t.u32(std::min<std::uint64_t>(cd_offset, 0xFFFFFFFF));
  t.u16(0);
  put(t.v);
}

}  // namespace tb::detail
