#pragma once
// The .npy format: header parsing and formatting, and turning a region of bytes (a file, an .npz
// member, an inflated buffer) into a tensor. Shared by npy.cpp and npz.cpp.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "tensorbridge/io/npy.hpp"

namespace tb::detail {

/// Bytes before the header text: magic (6), version (2), length (2 in v1, 4 in v2/v3).
inline constexpr std::size_t npy_min_prefix = 12;

/// Reads magic, version and header length from the first bytes of a .npy (at least 10, ideally
/// `npy_min_prefix`) and returns the total header size (= the data offset). `region_size` is the
/// size of the whole .npy; `where` names it in messages ("x.npz:train_x.npy").
std::size_t npy_header_size(std::span<const std::byte> first, std::uint64_t region_size, std::string_view where,
                            const npy_load_options& options);

/// Parses the complete header (`bytes.size()` == `npy_header_size(...)`) and checks it against
/// `region_size` (the data must fit).
npy_header parse_npy_header(std::span<const std::byte> bytes, std::uint64_t region_size, std::string_view where,
                            const npy_load_options& options);

/// The descr NumPy writes for `t` in native (little-endian) order: "<f4", "|b1", "<V2" (bfloat16).
std::string npy_descr(dtype t);

/// The full header (magic to newline) NumPy writes for an array; version 0 picks as NumPy does.
std::string format_npy_header(std::string_view descr, bool fortran_order, const shape_t& shape, int version);

/// A tensor viewing `storage` at `data_offset` as `header` describes it (Fortran order: transposed
/// strides). Byte order is left alone.
tensor npy_view(const npy_header& header, std::shared_ptr<storage> storage, std::uint64_t data_offset,
                bool read_only);

/// Throws tb::error (format) for a structured header, which a plain tensor read cannot return.
void reject_structured(const npy_header& header, std::string_view where);

/// Swaps non-native elements to native order unless `options.keep_byte_order` (the tensor must be
/// writable), and refuses structured headers for a plain tensor read.
tensor finish_npy_tensor(tensor t, const npy_header& header, const npy_load_options& options,
                         std::string_view where);

/// The columns of a structured header over records viewed from `storage` at `data_offset`; a
/// plain array is one column named "".
std::vector<named_column> npy_columns(const npy_header& header, std::shared_ptr<storage> storage,
                                      std::uint64_t data_offset, bool read_only, const npy_load_options& options,
                                      std::string_view where);

/// A .npy's header and the storage + offset of its data.
struct npy_region_data {
  npy_header header;
  std::shared_ptr<tb::storage> storage;
  std::uint64_t data_offset = 0;  // bytes from storage->data() to the first element
  bool read_only = false;
};
/// Reads the header of the .npy held in the region [offset, offset + size) of `source` (one small
/// read; a second one only for a header longer than 4 KiB).
npy_header read_npy_region_header(byte_source& source, std::uint64_t offset, std::uint64_t size,
                                  std::string_view where, const npy_load_options& options);
/// Reads the data of that .npy (whose header is `header`) into an aligned buffer (in parallel:
/// pread for files, ranged requests for remote objects), or maps it when `options.mmap` and the
/// source is a local file.
npy_region_data read_npy_region(byte_source& source, std::uint64_t offset, const npy_header& header,
                                std::string_view where, const npy_load_options& options);

/// Writes the .npy form of `t` through `sink(bytes)` calls (header, then data in large pieces),
/// without copying C- or Fortran-contiguous data. Returns the total byte count.
std::uint64_t write_npy(const tensor& t, const npy_save_options& options,
                        const std::function<void(std::span<const std::byte>)>& sink);

/// The exact number of bytes `write_npy` produces for `t`.
std::uint64_t npy_size(const tensor& t, const npy_save_options& options);

}  // namespace tb::detail
