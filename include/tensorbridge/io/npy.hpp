#pragma once
/// @file npy.hpp
/// NumPy's `.npy` and `.npz` files: readers (optionally memory-mapped) and writers.
///
/// - `.npy` format versions 1.0, 2.0 and 3.0; every tensorbridge dtype; C and Fortran order; both
///   byte orders; 0-d and empty arrays; structured (record) arrays read as columns.
/// - `.npz`: zip archives of `.npy` members, stored or deflated, with or without zip64 records.
/// - bfloat16: `np.save` of an `ml_dtypes.bfloat16` array writes the descr `'<V2'` (2 raw bytes),
///   and so does `save_npy`, so that `np.load(f).view(ml_dtypes.bfloat16)` reads it. Reading
///   `'<V2'` as bfloat16 must be asked for (`npy_load_options::void2_as_bfloat16`): the descr alone
///   cannot tell bfloat16 from any other 2-byte raw type.
/// - Object arrays (descr `'O'`, pickled) are refused: tensorbridge never unpickles.
/// - Every malformed input is a `tb::error` of kind format (content) or io (the operating system)
///   naming the path and the byte offset.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/io/source.hpp"
#include "tensorbridge/io/structured.hpp"

namespace tb {

/// Receives bytes as a writer produces them, in order, in pieces of any size.
using byte_sink = std::function<void(std::span<const std::byte>)>;

/// How to read a `.npy` file or `.npz` member.
struct npy_load_options {
  /// Map the file instead of reading it: opening costs O(1) in the file size, the tensor's storage
  /// unmaps the file when the last view dies. Default: false (read into an aligned buffer).
  /// In an `.npz`, only stored (uncompressed) members can be mapped; deflated ones are read.
  /// A remote path (`s3://`, `https://`) is always read into memory (the flag is ignored).
  bool mmap = false;
  /// With `mmap`: map privately, so the tensor is writable and writes never reach the file.
  /// Default: false (a read-only shared mapping: writes are refused, changes to the file show).
  bool copy_on_write = false;
  /// Leave non-native (big-endian) elements as stored instead of swapping them to native order;
  /// `npy_header::byteswapped` tells which. Default: false (swap, so values are right).
  /// A read-only mapping of non-native data cannot be swapped: without this flag or
  /// `copy_on_write`, mapping it throws `tb::error` (buffer).
  bool keep_byte_order = false;
  /// Read the 2-byte raw descr `'<V2'`/`'|V2'` (how `np.save` writes `ml_dtypes.bfloat16`) as
  /// bfloat16. Default: false (refused with a message naming this option).
  bool void2_as_bfloat16 = false;
  /// The largest header accepted, in bytes (NumPy's own default is 10000). Default: 1 MiB.
  std::size_t max_header_size = std::size_t{1} << 20;
  /// `.npz` only: check each member's CRC-32 (header and data, as NumPy's reader does) when its
  /// data is read, so a damaged byte is a `tb::error` (format) naming the member instead of a
  /// wrong value. Default: true, for every member: stored or deflated, read or memory-mapped (a
  /// mapped member's bytes are then read once from the file when loaded). false skips the check, e.g. to map a large
  /// stored member in O(1) without reading it. `npz_reader::header` reads no data and
  /// checks nothing.
  bool verify_crc = true;
  /// How to reach a remote path (`s3://`, `https://`): credentials, endpoint, part size,
  /// concurrency, retries. Ignored for local files.
  storage_options storage;
  /// Throws `tb::error` (value) if the options are inconsistent (`copy_on_write` without `mmap`,
  /// a zero `max_header_size`).
  void validate() const;
};

/// The parsed header of a `.npy` file or member.
struct npy_header {
  int major_version = 1;        ///< format version: 1, 2 or 3
  int minor_version = 0;        ///< always 0 today
  std::string descr;            ///< the `descr` entry as written (`"<f4"`, or the field list's text)
  tb::dtype dtype = tb::dtype::uint8;  ///< element type; for records, uint8 (one byte per record byte)
  bool byteswapped = false;     ///< the elements are stored in non-native byte order
  bool fortran_order = false;   ///< the data is in Fortran (column-major) order
  shape_t shape;                ///< the array's shape (records: the record shape)
  std::vector<record_field> fields;  ///< for a structured (record) array, its fields; else empty
  std::size_t record_size = 0;  ///< bytes per element (per record for a structured array)
  std::uint64_t data_offset = 0;  ///< bytes from the start of the file/member to the first element
  std::uint64_t data_nbytes = 0;  ///< bytes of element data the header promises
  /// True for a structured (record) array.
  bool is_structured() const noexcept { return !fields.empty(); }
};

/// How to write a `.npy` file.
struct npy_save_options {
  /// Format version to write: 0 picks what NumPy picks (1.0, or 2.0 when the header exceeds
  /// 65535 bytes); 1, 2 or 3 force one. Default: 0.
  int version = 0;
  /// How to reach a remote path (`s3://bucket/key`): see `storage_options`.
  storage_options storage;
  /// Throws `tb::error` (value) for a version other than 0-3.
  void validate() const;
};

/// Reads only the header of the `.npy` file at `path`.
npy_header read_npy_header(const std::string& path, const npy_load_options& options = {});

/// Reads the `.npy` file at `path` into a tensor (C order: C-contiguous; Fortran order: the
/// transposed-strides view of the same bytes, no copy). The buffer is `buffer_alignment`-aligned.
/// Throws `tb::error` (format) for a structured array: use `load_npy_columns`.
///
/// Example: `tb::tensor x = tb::load_npy("x.npy", {.mmap = true});`
tensor load_npy(const std::string& path, const npy_load_options& options = {});

/// Reads a structured (record) `.npy` file as one tensor per field (views of the records, see
/// `columns_from_records`). A plain array gives one column named "".
std::vector<named_column> load_npy_columns(const std::string& path, const npy_load_options& options = {});

/// Writes `t` (any strides; a Fortran-contiguous tensor is written in Fortran order without a
/// copy) to `path` as NumPy writes it: same header text, data 64-byte aligned. bfloat16 is
/// written as descr `'<V2'` (see the file comment).
/// - Atomic: the file is written under a temporary name in the same folder, synced and renamed
///   over `path`, so a failed or interrupted save leaves an existing file as it was, and saving
///   over a file that `t` is memory-mapped from is safe. A symbolic link is followed; the new
///   file keeps the replaced file's mode.
/// - Errors: a missing folder is `error_kind::not_found`, a folder without write permission
///   `permission`, a directory `is_directory`, a failed write `write`.
void save_npy(const std::string& path, const tensor& t, const npy_save_options& options = {});

/// Writes `t` as a `.npy` file to `sink` (the bytes `save_npy` would write), e.g. into a stream.
void save_npy_to(const byte_sink& sink, const tensor& t, const npy_save_options& options = {});

/// One member of an `.npz` archive.
struct npz_member {
  std::string key;                 ///< the array name: the member name without ".npy"
  std::string member_name;         ///< the name inside the zip ("train_x.npy")
  bool compressed = false;         ///< deflated (true) or stored (false)
  std::uint64_t compressed_size = 0;    ///< bytes in the archive
  std::uint64_t uncompressed_size = 0;  ///< bytes of the `.npy` content
  /// Byte offset of the member's local header in the archive (its data follows the header's name
  /// and extra field: `npz_reader::data_offset`).
  std::uint64_t local_header_offset = 0;
  std::uint32_t crc32 = 0;         ///< CRC-32 of the uncompressed content
};

/// An open `.npz` archive whose members are read one at a time, on demand (like NumPy's NpzFile).
/// Opening reads only the zip end records and central directory (for a remote archive: one ranged
/// request for its tail, and one for the directory if it does not lie there); a member costs its
/// local header and its own bytes, nothing of the other members.
class npz_reader {
 public:
  /// Opens `path` (local, or remote through `options.storage`) and reads its directory. Throws
  /// `tb::error` (io) if it cannot be opened and (format) if it is not a well-formed zip archive.
  explicit npz_reader(const std::string& path, const npy_load_options& options = {});
  /// Reads the directory of the archive `source` (taken over).
  npz_reader(std::unique_ptr<byte_source> source, const npy_load_options& options);
  ~npz_reader();
  npz_reader(npz_reader&&) noexcept;
  npz_reader& operator=(npz_reader&&) noexcept;

  /// The archive's path.
  const std::string& path() const noexcept;
  /// The array names, in archive order.
  std::vector<std::string> keys() const;
  /// Every member, in archive order.
  const std::vector<npz_member>& members() const noexcept;
  /// True if `key` (or the member name `key`) is in the archive.
  bool contains(const std::string& key) const noexcept;
  /// Reads the header of member `key`.
  npy_header header(const std::string& key) const;
  /// The byte offset in the archive where member `key`'s data (its `.npy`, maybe deflated)
  /// starts, read from its local header.
  std::uint64_t data_offset(const std::string& key) const;
  /// Reads member `key` (only that member). Throws `tb::error` (value) for an unknown key.
  tensor load(const std::string& key) const;
  /// Reads a structured member `key` as columns (see `load_npy_columns`).
  std::vector<named_column> load_columns(const std::string& key) const;
  /// Closes the file (or connection); tensors already read (even memory-mapped ones) stay valid.
  void close() noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// How to write an `.npz` archive.
struct npz_save_options {
  /// Deflate every member (`np.savez_compressed`); false stores them (`np.savez`). Default: false.
  bool compress = false;
  /// How to reach a remote path (`s3://bucket/key`): see `storage_options`.
  storage_options storage;
  /// zlib compression level 1 (fastest) to 9 (smallest), or -1 for zlib's default (6). Default: -1.
  int compression_level = -1;
  /// Throws `tb::error` (value) for a level outside -1, 1..9.
  void validate() const;
};

/// Writes `arrays` (name, tensor) to `path` as `np.savez`/`np.savez_compressed` do: one member
/// "name.npy" each, zip64 extra fields on every member. Throws `tb::error` (value) for a duplicate
/// or empty name.
/// Atomic as `save_npy` (same errors).
void save_npz(const std::string& path, std::span<const std::pair<std::string, tensor>> arrays,
              const npz_save_options& options = {});

/// Writes the archive `save_npz` would write to `sink` (staged in memory first: a zip member's
/// header is completed after its data).
void save_npz_to(const byte_sink& sink, std::span<const std::pair<std::string, tensor>> arrays,
                 const npz_save_options& options = {});

/// What a file is by its first bytes, as `np.load` tells them apart.
enum class array_file_kind {
  npy,    ///< starts with the `.npy` magic `\x93NUMPY`
  npz,    ///< a zip archive (a local file header, or the end record of an empty one)
  other,  ///< neither
};

/// The kind of the file whose first bytes are `head` (6 bytes suffice; fewer give `other`
/// unless they already show a zip).
array_file_kind detect_array_file(std::span<const std::byte> head);

/// The kind of the file at `path`, from its first 6 bytes (a FIFO or pipe is read whole first, so
/// it cannot be read again). Throws `tb::error` (io) if it cannot be opened or read.
array_file_kind detect_array_file(const std::string& path);

/// What a `.npy` or `.npz` file holds, told apart by content as `np.load` does.
struct npy_or_npz {
  /// For a `.npy`: its columns (see `load_npy_columns`; a plain array is one column named "").
  std::vector<named_column> columns;
  /// For an `.npz`: the open archive.
  std::optional<npz_reader> archive;
  /// For a `.npy`: the byte just after its data, where a following array starts (`np.load` leaves
  /// a file object there).
  std::uint64_t end = 0;
};

/// Opens `path` once and reads it as `.npy` or `.npz` by its first bytes; anything else is a
/// `tb::error` (format). FIFOs, pipes and /proc files work (read into memory first).
npy_or_npz load_npy_or_npz(const std::string& path, const npy_load_options& options = {});

/// `load_npy_or_npz` of bytes in memory (copied), named `name` in messages.
npy_or_npz load_npy_or_npz_bytes(std::span<const std::byte> bytes, const std::string& name,
                                 const npy_load_options& options = {});

}  // namespace tb
