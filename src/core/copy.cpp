#include <algorithm>
#include <cstring>

#include "core/dispatch_internal.hpp"
#include "core/strided_internal.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace tb {
namespace detail {

shape_t byte_strides(const tensor& t) {
  shape_t s = t.strides();
  for (auto& v : s) v *= static_cast<std::int64_t>(t.itemsize());
  return s;
}

row_layout make_row_layout(const shape_t& shape, const shape_t& src_strides, const shape_t& dst_strides) {
  row_layout out;
  std::vector<std::int64_t> dims, ss, ds;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) {
      out.rows = 0;
      out.inner = 0;
      return out;
    }
    if (shape[i] == 1) continue;
    dims.push_back(shape[i]);
    ss.push_back(src_strides[i]);
    ds.push_back(dst_strides[i]);
  }
  // Merge a dimension into the one inside it when both layouts step through them as one.
  std::vector<std::int64_t> md, ms, mdst;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (!md.empty() && ms.back() == ss[i] * dims[i] && mdst.back() == ds[i] * dims[i]) {
      md.back() *= dims[i];
      ms.back() = ss[i];
      mdst.back() = ds[i];
      continue;
    }
    md.push_back(dims[i]);
    ms.push_back(ss[i]);
    mdst.push_back(ds[i]);
  }
  if (md.empty()) return out;  // a single element
  out.inner = md.back();
  out.src_step = ms.back();
  out.dst_step = mdst.back();
  md.pop_back();
  ms.pop_back();
  mdst.pop_back();
  out.outer_shape = std::move(md);
  out.src_outer = std::move(ms);
  out.dst_outer = std::move(mdst);
  for (auto d : out.outer_shape) out.rows *= d;
  return out;
}

row_layout make_row_layout(const tensor& src, const tensor& dst) {
  return make_row_layout(src.shape(), byte_strides(src), byte_strides(dst));
}

void copy_run(const std::byte* src, std::int64_t ss, std::byte* dst, std::int64_t ds, std::int64_t n,
              std::size_t itemsize) {
  const auto size = static_cast<std::int64_t>(itemsize);
  if (ss == size && ds == size) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * itemsize);
    return;
  }
  visit_size(itemsize, [&](auto size) {
    for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, size);
  });
}

}  // namespace detail

namespace {

void copy_bytes_strided(const std::byte* src, const shape_t& shape, const shape_t& src_strides, const tensor& dst) {
  auto layout = detail::make_row_layout(shape, src_strides, detail::byte_strides(dst));
  const std::size_t size = dst.itemsize();
  detail::for_each_row(layout, src, static_cast<std::byte*>(dst.data()), dst.nbytes(),
                       [&](const std::byte* s, std::byte* d, std::int64_t n) {
                         detail::copy_run(s, layout.src_step, d, layout.dst_step, n, size);
                       });
}

}  // namespace

void copy_into(const tensor& src, const tensor& dst) {
  if (src.shape() != dst.shape())
    fail(error_kind::value, "copy_into: source ", src.describe(), " and destination ", dst.describe(),
         " differ in shape");
  if (src.dtype() != dst.dtype())
    fail(error_kind::type, "copy_into: source is ", name(src.dtype()), " but destination is ", name(dst.dtype()),
         "; use tb::cast_into to convert");
  if (dst.read_only()) fail(error_kind::value, "copy_into: the destination is read-only");
  copy_bytes_strided(static_cast<const std::byte*>(src.data()), src.shape(), detail::byte_strides(src), dst);
}

void byteswap_inplace(const tensor& t) {
  if (t.read_only()) fail(error_kind::value, "byteswap_inplace: the tensor is read-only");
  tensor c = t.is_contiguous() ? t : t.copy();
  // Complex numbers swap each of their two halves.
  std::size_t word = is_complex(t.dtype()) ? t.itemsize() / 2 : t.itemsize();
  auto* p = static_cast<unsigned char*>(c.data());
  std::size_t n = c.nbytes() / word;
  for (std::size_t i = 0; i < n; ++i) std::reverse(p + i * word, p + (i + 1) * word);
  if (c.data() != t.data()) copy_into(c, t);
}

std::int64_t element_strides(std::span<const std::int64_t> shape, std::span<const std::int64_t> byte_strides,
                             tb::dtype dtype, std::span<std::int64_t> out) noexcept {
  const auto size = static_cast<std::int64_t>(itemsize(dtype));
  for (std::size_t i = 0; i < shape.size(); ++i) {
    // The stride of an axis of one element (or none) is never used to address anything.
    if (shape[i] > 1 && byte_strides[i] % size != 0) return static_cast<std::int64_t>(i);
    out[i] = byte_strides[i] / size;
  }
  return -1;
}

import_result import_buffer(buffer_view view, bool allow_copy) {
  if (view.shape.size() != view.byte_strides.size())
    fail(error_kind::value, "import: shape has ", view.shape.size(), " dimensions but strides have ",
         view.byte_strides.size());
  const auto size = static_cast<std::int64_t>(itemsize(view.dtype));
  std::string reason;
  shape_t strides(view.shape.size());
  const std::int64_t bad_axis = element_strides(view.shape, view.byte_strides, view.dtype, strides);
  if (view.byteswapped)
    reason = "the elements are byte-swapped (non-native byte order)";
  else if (bad_axis >= 0)
    reason = detail::cat("stride ", view.byte_strides[bad_axis], " bytes of axis ", bad_axis,
                         " is not a multiple of the ", size, "-byte ", name(view.dtype),
                         " element (a field of a structured array?)");
  // Owning the release from here on makes it run exactly once, whichever way this returns.
  auto owner = storage::wrap(view.data, 0, std::move(view.release));
  if (reason.empty()) {
    return {tensor(std::move(owner), view.dtype, std::move(view.shape), std::move(strides), 0, view.device,
                   view.read_only),
            {}};
  }
  if (!allow_copy)
    fail(error_kind::buffer, "cannot share this buffer without a copy: ", reason, "; pass copy=None to allow one");
  if (!view.device.is_host())
    fail(error_kind::value, "cannot copy a buffer on device ", to_string(view.device), " on the host");
  tensor out = tensor::empty(view.shape, view.dtype);
  copy_bytes_strided(static_cast<const std::byte*>(view.data), view.shape, view.byte_strides, out);
  if (view.byteswapped) byteswap_inplace(out);
  return {std::move(out), std::move(reason)};
}

}  // namespace tb
