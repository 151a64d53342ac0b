#include <algorithm>
#include <cstring>

#include "io/file_internal.hpp"
#include "io/npy/npy_internal.hpp"
#include "io/npy/remote_internal.hpp"

namespace tb {

void npy_load_options::validate() const {
  if (copy_on_write && !mmap)
    fail(error_kind::value, "npy_load_options: copy_on_write=true needs mmap=true (a read is always a private copy)");
  if (max_header_size == 0) fail(error_kind::value, "npy_load_options: max_header_size must be positive");
}

void npy_save_options::validate() const {
  if (version < 0 || version > 3)
    fail(error_kind::value, "npy_save_options: version must be 0 (automatic), 1, 2 or 3, not ", version);
}

namespace detail {

tensor npy_view(const npy_header& header, std::shared_ptr<storage> storage, std::uint64_t data_offset,
                bool read_only) {
  shape_t strides;
  if (header.fortran_order) {
    // Column-major bytes viewed in place: the first index moves fastest.
    strides.resize(header.shape.size());
    std::int64_t step = 1;
    for (std::size_t i = 0; i < header.shape.size(); ++i) {
      strides[i] = step;
      step *= std::max<std::int64_t>(header.shape[i], 1);
    }
  } else {
    strides = tensor::contiguous_strides(header.shape);
  }
  return tensor(std::move(storage), header.dtype, header.shape, std::move(strides),
                static_cast<std::int64_t>(data_offset), cpu_device, read_only);
}

void reject_structured(const npy_header& header, std::string_view where) {
  if (header.is_structured())
    fail(error_kind::format, where, ": holds a structured (record) array with fields ", header.descr,
         "; read it as columns (tb::load_npy_columns, or tensorbridge.load in Python, which returns a dict)");
}

tensor finish_npy_tensor(tensor t, const npy_header& header, const npy_load_options& options,
                         std::string_view where) {
  reject_structured(header, where);
  if (header.byteswapped && !options.keep_byte_order) {
    if (t.read_only())
      fail(error_kind::buffer, where, ": the elements are big-endian (descr '", header.descr,
           "') and a read-only memory map cannot be swapped to native order; pass copy_on_write=true (swaps a "
           "private copy of the pages), keep_byte_order=true, or mmap=false");
    byteswap_inplace(t);
  }
  return t;
}

std::vector<named_column> npy_columns(const npy_header& header, std::shared_ptr<storage> storage,
                                      std::uint64_t data_offset, bool read_only, const npy_load_options& options,
                                      std::string_view where) {
  if (!header.is_structured()) {
    tensor t = finish_npy_tensor(npy_view(header, std::move(storage), data_offset, read_only), header, options, where);
    return {named_column{"", std::move(t), {}}};
  }
  shape_t shape = header.shape;
  shape.push_back(static_cast<std::int64_t>(header.record_size));
  shape_t strides = tensor::contiguous_strides(shape);
  tensor records(std::move(storage), dtype::uint8, std::move(shape), std::move(strides),
                 static_cast<std::int64_t>(data_offset), cpu_device, read_only);
  std::vector<record_field> fields = header.fields;
  if (options.keep_byte_order)
    for (auto& f : fields) f.byteswapped = false;
  return columns_from_records(records, fields);
}

npy_header read_npy_region_header(byte_source& source, std::uint64_t offset, std::uint64_t size,
                                  std::string_view where, const npy_load_options& options) {
  options.validate();
  // One small read covers the header of nearly every file; only long headers need a second.
  std::vector<std::byte> head(static_cast<std::size_t>(std::min<std::uint64_t>(size, 4096)));
  source.read_at(head.data(), head.size(), offset);
  std::size_t total = npy_header_size(head, size, where, options);
  if (total > head.size()) {
    std::size_t have = head.size();
    head.resize(total);
    source.read_at(head.data() + have, total - have, offset + have);
  }
  return parse_npy_header(std::span<const std::byte>(head.data(), total), size, where, options);
}

npy_region_data read_npy_region(byte_source& source, std::uint64_t offset, const npy_header& header,
                                std::string_view where, const npy_load_options& options) {
  npy_region_data out;
  out.header = header;
  std::uint64_t start = offset + out.header.data_offset;
  std::uint64_t n = out.header.data_nbytes;
  if (options.mmap && source.fd() >= 0) {
    out.storage = map_region(source.fd(), start, n, options.copy_on_write, where);
    out.read_only = !options.copy_on_write;
  } else {
    out.storage = storage::allocate(static_cast<std::size_t>(n));
    source.read_at(out.storage->data(), static_cast<std::size_t>(n), start);
  }
  return out;
}

std::uint64_t npy_size(const tensor& t, const npy_save_options& options) {
  bool fortran = !t.is_contiguous() && t.is_f_contiguous();
  return format_npy_header(npy_descr(t.dtype()), fortran, t.shape(), options.version).size() + t.nbytes();
}

std::uint64_t write_npy(const tensor& t, const npy_save_options& options,
                        const std::function<void(std::span<const std::byte>)>& sink) {
  options.validate();
  if (!t.device().is_host())
    fail(error_kind::value, "save: the tensor is on ", to_string(t.device()), "; move it to the CPU first");
  // C- and Fortran-contiguous tensors are written straight from their memory; anything else is
  // copied to C order first (NumPy does the same).
  bool fortran = !t.is_contiguous() && t.is_f_contiguous();
  tensor data = t.is_contiguous() || fortran ? t : t.contiguous();
  std::string header = format_npy_header(npy_descr(t.dtype()), fortran, t.shape(), options.version);
  sink(std::as_bytes(std::span<const char>(header.data(), header.size())));
  const auto* p = static_cast<const std::byte*>(data.data());
  std::size_t n = data.nbytes();
  constexpr std::size_t piece = std::size_t{64} << 20;
  for (std::size_t done = 0; done < n; done += piece) sink({p + done, std::min(piece, n - done)});
  return header.size() + n;
}

}  // namespace detail

npy_header read_npy_header(const std::string& path, const npy_load_options& options) {
  auto source = open_source(path, options.storage);
  return detail::read_npy_region_header(*source, 0, source->size(), source->where(), options);
}

tensor load_npy(const std::string& path, const npy_load_options& options) {
  auto source = open_source(path, options.storage);
  const std::string& where = source->where();
  auto header = detail::read_npy_region_header(*source, 0, source->size(), where, options);
  detail::reject_structured(header, where);
  auto region = detail::read_npy_region(*source, 0, header, where, options);
  return detail::finish_npy_tensor(
      detail::npy_view(region.header, std::move(region.storage), region.data_offset, region.read_only), region.header,
      options, where);
}

std::vector<named_column> load_npy_columns(const std::string& path, const npy_load_options& options) {
  auto source = open_source(path, options.storage);
  const std::string& where = source->where();
  auto header = detail::read_npy_region_header(*source, 0, source->size(), where, options);
  auto region = detail::read_npy_region(*source, 0, header, where, options);
  return detail::npy_columns(region.header, std::move(region.storage), region.data_offset, region.read_only, options,
                             where);
}

void save_npy(const std::string& path, const tensor& t, const npy_save_options& options) {
  options.validate();
  if (is_remote_path(path))
    return detail::save_remote(path, options.storage, [&](const auto& sink) { detail::write_npy(t, options, sink); });
  detail::atomic_file file(path);
  detail::write_npy(t, options, [&](std::span<const std::byte> bytes) { detail::write_exact(file.fd(), bytes, path); });
  file.commit();
}

void save_npy_to(const byte_sink& sink, const tensor& t, const npy_save_options& options) {
  options.validate();
  detail::write_npy(t, options, sink);
}

}  // namespace tb
