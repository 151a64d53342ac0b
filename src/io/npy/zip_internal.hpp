#pragma once
// A minimal zip reader and writer for .npz: the central directory (with zip64 records and extra
// fields), stored and deflated members. Every offset and size read from a file is checked against
// the file before use: corrupt or hostile archives are tb::error (format), never a crash.
//
// The reader reads through a `byte_source`, so a local file and a remote object share it: opening
// costs one read of the archive's tail (the end records, and the central directory when it lies
// there), and a member costs its local header and its bytes, nothing of the other members.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/file_internal.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb::detail {

/// One member of a zip archive, as its central directory entry gives it.
struct zip_entry {
  std::string name;                       // member name as stored (UTF-8 or CP437 bytes)
  std::uint16_t method = 0;               // 0 stored, 8 deflated
  std::uint32_t crc32 = 0;                // CRC-32 of the uncompressed bytes
  std::uint64_t compressed_size = 0;      // bytes in the archive
  std::uint64_t uncompressed_size = 0;    // bytes after inflating
  std::uint64_t local_header_offset = 0;  // where the member's local header starts
  std::uint64_t data_offset = 0;          // where its (compressed) data starts: 0 until `locate_member_data`
  std::uint64_t data_end = 0;             // where the data area ends (the central directory's offset)
};

/// The largest expansion deflate can achieve (a 258-byte match in about 2 bits): a member whose
/// uncompressed size exceeds this times its compressed size is lying about its sizes.
inline constexpr std::uint64_t max_deflate_ratio = 1032;

/// Reads the central directory of the zip archive `source`. Members' data offsets are left to
/// `locate_member_data` (a local header read per member, done only for members that are read).
/// `where` names the archive in messages.
std::vector<zip_entry> read_zip_directory(byte_source& source, std::string_view where);

/// Reads the local header of `entry` and returns where its data starts, checked to lie with its
/// `compressed_size` bytes before `entry.data_end`.
std::uint64_t locate_member_data(byte_source& source, const zip_entry& entry, std::string_view where);

/// Inflates a deflated member (`entry.data_offset` located) into `out` (exactly
/// `entry.uncompressed_size` bytes), checking that the stream ends exactly there and, if
/// `check_crc`, that the CRC matches (`check_member_crc`).
void inflate_member(byte_source& source, const zip_entry& entry, std::byte* out, std::string_view where,
                    bool check_crc = true);

/// The CRC-32 of `bytes`, continuing from `crc` (0 to start).
std::uint32_t crc32_update(std::uint32_t crc, std::span<const std::byte> bytes);

/// The CRC-32 of the bytes [offset, offset + n) of `source`, continuing from `crc`.
std::uint32_t crc32_source_range(byte_source& source, std::uint64_t offset, std::uint64_t n, std::uint32_t crc,
                                 std::string_view where);

/// Throws tb::error (format) naming the member and the way to read it anyway unless `actual`
/// (the CRC-32 of the member's uncompressed bytes) is the one its directory entry records.
void check_member_crc(const zip_entry& entry, std::uint32_t actual, std::string_view where);

/// Inflates only the first `n` bytes (n <= `entry.uncompressed_size`) of a deflated member into
/// `out` (to read a header without inflating the data); the CRC is not checked.
void inflate_member_prefix(byte_source& source, const zip_entry& entry, std::byte* out, std::size_t n,
                           std::string_view where);

/// Receives the bytes of a member as they are produced.
using byte_sink = std::function<void(std::span<const std::byte>)>;

/// Writes a zip archive member by member, as Python's zipfile writes with force_zip64=True
/// (what np.savez does): zip64 extra fields on every member, zip64 end records when needed.
class zip_writer {
 public:
  /// Writes to the seekable descriptor `fd` (not owned), from its start; `where` names it in messages.
  zip_writer(int fd, std::string where) : fd_(fd), where_(std::move(where)) {}
  /// Adds member `name` of `size` uncompressed bytes, which `produce(sink)` writes through `sink`
  /// (in any number of pieces). `level`: zlib level, or -1; ignored when `compress` is false.
  void add(const std::string& name, std::uint64_t size, bool compress, int level,
           const std::function<void(const byte_sink&)>& produce);
  /// Writes the central directory and end records; the archive is incomplete until then.
  void finish();

 private:
  void put(std::span<const std::byte> bytes);
  int fd_;
  std::string where_;
  std::uint64_t position_ = 0;
  std::vector<zip_entry> entries_;
};

}  // namespace tb::detail
