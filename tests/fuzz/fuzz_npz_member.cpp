// libFuzzer target for the .npz member read path: the input becomes one member of a well-formed
// zip archive, so every run reaches the inflate, CRC and .npy code (fuzz_zip mostly exercises
// the directory). Any member must give a tensor, columns or a tb::error, never a crash, a hang,
// a huge allocation or a sanitizer report.
//
// The first byte picks: bit 0 deflated (else stored); bit 1 (deflated) the rest is a raw
// deflate stream as is (else the .npy bytes, which the target deflates); bit 2 mmap; bit 3 a
// wrong CRC-32 in the directory; bit 4 verify_crc off; bit 5 (raw stream) declare one byte more
// than the stream inflates to.

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensorbridge/io/npy.hpp"

namespace {

void put(std::string& s, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// The member's uncompressed bytes (up to `cap` of them) from a raw deflate stream, or what
// inflated before the stream failed.
std::string inflate_raw(const std::string& in, std::size_t cap) {
  std::string out;
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[4096];
  while (out.size() < cap) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  return out;
}

std::string deflate_raw(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

// One-member zip archive, as Python's zipfile writes it (without zip64 fields: small sizes).
std::string zip_of(const std::string& name, int method, const std::string& payload, std::uint64_t usize,
                   std::uint32_t crc) {
  std::string z;
  put(z, 0x04034b50, 4);
  put(z, 20, 2);
  put(z, 0, 2);
  put(z, method, 2);
  put(z, 0, 4);  // time, date
  put(z, crc, 4);
  put(z, payload.size(), 4);
  put(z, usize, 4);
  put(z, name.size(), 2);
  put(z, 0, 2);
  z += name;
  z += payload;
  std::size_t cd = z.size();
  put(z, 0x02014b50, 4);
  put(z, 20, 2);
  put(z, 20, 2);
  put(z, 0, 2);
  put(z, method, 2);
  put(z, 0, 4);
  put(z, crc, 4);
  put(z, payload.size(), 4);
  put(z, usize, 4);
  put(z, name.size(), 2);
  put(z, 0, 2);  // extra
  put(z, 0, 2);  // comment
  put(z, 0, 2);  // disk
  put(z, 0, 2);  // internal attributes
  put(z, 0, 4);  // external attributes
  put(z, 0, 4);  // local header offset
  z += name;
  std::size_t cd_size = z.size() - cd;
  put(z, 0x06054b50, 4);
  put(z, 0, 4);
  put(z, 1, 2);
  put(z, 1, 2);
  put(z, cd_size, 4);
  put(z, cd, 4);
  put(z, 0, 2);
  return z;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool deflated = flags & 1, raw = deflated && (flags & 2);
  std::string content = raw ? inflate_raw(rest, std::size_t{1} << 22) : rest;
  std::string payload = !deflated ? rest : raw ? rest : deflate_raw(rest);
  std::uint64_t usize = content.size() + (raw && (flags & 32) ? 1 : 0);
  std::uint32_t crc = static_cast<std::uint32_t>(
      crc32_z(0, reinterpret_cast<const Bytef*>(content.data()), content.size()));
  if (flags & 8) crc ^= 0x00010000;
  const std::string archive = zip_of("a.npy", deflated ? 8 : 0, payload, usize, crc);
  int fd = memfd_create("fuzz_npz_member", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, archive.data(), archive.size()) == static_cast<ssize_t>(archive.size())) {
    tb::npy_load_options o;
    o.mmap = flags & 4;
    o.verify_crc = !(flags & 16);
    try {
      tb::npz_reader reader("/proc/self/fd/" + std::to_string(fd), o);
      if (reader.header("a").is_structured()) {
        for (auto& c : reader.load_columns("a")) (void)c.values.contiguous();
      } else {
        (void)reader.load("a").copy();
      }
    } catch (const tb::error&) {
    }
  }
  close(fd);
  return 0;
}
