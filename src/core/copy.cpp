#include <algorithm>
#include <cstring>

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

namespace {
template <std::size_t N>
struct bytes {
  unsigned char b[N];
};

template <std::size_t N>
void copy_typed(const std::byte* src, std::int64_t ss, std::byte* dst, std::int64_t ds, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    std::memcpy(dst + i * ds, src + i * ss, N);  // compiles to one load and store of N bytes
}
}  // namespace

void copy_run(const std::byte* src, std::int64_t ss, std::byte* dst, std::int64_t ds, std::int64_t n,
              std::size_t itemsize) {
  const auto size = static_cast<std::int64_t>(itemsize);
  if (ss == size && ds == size) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * itemsize);
    return;
  }
  switch (itemsize) {
    case 1: return copy_typed<1>(src, ss, dst, ds, n);
    case 2: return copy_typed<2>(src, ss, dst, ds, n);
    case 4: return copy_typed<4>(src, ss, dst, ds, n);
    case 8: return copy_typed<8>(src, ss, dst, ds, n);
    case 16: return copy_typed<16>(src, ss, dst, ds, n);
    default:
      for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, itemsize);
  }
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

import_result import_buffer(buffer_view view, bool allow_copy) {
  if (view.shape.size() != view.byte_strides.size())
    fail(error_kind::value, "import: shape has ", view.shape.size(), " dimensions but strides have ",
         view.byte_strides.size());
  const auto size = static_cast<std::int64_t>(itemsize(view.dtype));
  std::string reason;
  if (view.byteswapped) reason = "the elements are byte-swapped (non-native byte order)";
  for (std::size_t i = 0; i < view.shape.size() && reason.empty(); ++i)
    if (view.shape[i] > 1 && view.byte_strides[i] % size != 0)
      reason = detail::cat("stride ", view.byte_strides[i], " bytes of axis ", i, " is not a multiple of the ",
                           size, "-byte ", name(view.dtype), " element (a field of a structured array?)");
  // Owning the release from here on makes it run exactly once, whichever way this returns.
  auto owner = storage::wrap(view.data, 0, std::move(view.release));
  if (reason.empty()) {
    shape_t strides = view.byte_strides;
    for (auto& s : strides) s /= size;
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
