#include "tensorbridge/core/tensor.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace tb {
namespace {

// a * b, or a tb::error (overflow) naming `what` when the product does not fit in 64 bits.
std::int64_t checked_mul(std::int64_t a, std::int64_t b, const char* what, const shape_t& shape) {
  std::int64_t out;
  if (__builtin_mul_overflow(a, b, &out))
    fail(error_kind::overflow, what, ": shape ", format_tuple(shape), " has more elements than 64-bit sizes and ",
         "strides can address");
  return out;
}

}  // namespace

std::string format_tuple(std::span<const std::int64_t> values) {
  std::string s = "(";
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  if (values.size() == 1) s += ",";
  return s + ")";
}

std::int64_t layout_view::numel() const noexcept {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

bool layout_view::is_contiguous() const noexcept {
  if (numel() <= 1) return true;
  std::int64_t step = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (strides[i] != step) return false;
    step *= shape[i];
  }
  return true;
}

bool layout_view::is_f_contiguous() const noexcept {
  if (numel() <= 1) return true;
  std::int64_t step = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (strides[i] != step) return false;
    step *= shape[i];
  }
  return true;
}

bool layout_view::has_negative_strides() const noexcept {
  // Any negative stride counts, even over a dimension of one element: consumers such as
  // torch.from_numpy reject them without looking at the extent.
  for (auto s : strides)
    if (s < 0) return true;
  return false;
}

bool layout_view::has_overlap() const noexcept {
  if (numel() <= 1) return false;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] > 1 && strides[i] == 0) return true;
  return false;
}

tensor::tensor() : tensor(storage::allocate(0), tb::dtype::float32, {0}, {1}) {}

tensor::tensor(std::shared_ptr<tb::storage> storage, tb::dtype dtype, shape_t shape, shape_t strides,
               std::int64_t byte_offset, tb::device device, bool read_only)
    : storage_(std::move(storage)),
      dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      byte_offset_(byte_offset),
      device_(device),
      read_only_(read_only) {
  if (!storage_) fail(error_kind::value, "tensor: storage must not be null");
  if (shape_.size() != strides_.size())
    fail(error_kind::value, "tensor: shape ", format_tuple(shape_), " and strides ", format_tuple(strides_),
         " differ in length");
  for (std::size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] < 0) fail(error_kind::value, "tensor: dimension ", i, " of shape ", format_tuple(shape_), " is negative");
  // As NumPy requires, the non-zero dimensions and the item size multiply without overflow even
  // when the tensor is empty, so numel(), nbytes() and any C-order stride of the shape fit.
  std::int64_t bytes = static_cast<std::int64_t>(tb::itemsize(dtype_));
  for (auto d : shape_)
    if (d != 0) bytes = checked_mul(bytes, d, "tensor", shape_);
}

shape_t tensor::contiguous_strides(const shape_t& shape) {
  shape_t strides(shape.size());
  std::int64_t step = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    // The product past the first dimension is no stride: leave it out, so (2**62, 4) is fine.
    if (i > 0) step = checked_mul(step, std::max<std::int64_t>(shape[i], 1), "contiguous_strides", shape);
  }
  return strides;
}

tensor tensor::empty(shape_t shape, tb::dtype dtype) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) fail(error_kind::value, "tensor::empty: shape ", format_tuple(shape), " has a negative dimension");
    n = checked_mul(n, d, "tensor::empty", shape);
  }
  checked_mul(n, static_cast<std::int64_t>(tb::itemsize(dtype)), "tensor::empty", shape);
  auto strides = contiguous_strides(shape);
  return tensor(storage::allocate(static_cast<std::size_t>(n) * tb::itemsize(dtype)), dtype, std::move(shape),
                std::move(strides));
}

tensor tensor::zeros(shape_t shape, tb::dtype dtype) {
  tensor t = empty(std::move(shape), dtype);
  std::memset(t.data(), 0, t.nbytes());
  return t;
}

layout_view tensor::layout() const noexcept {
  const storage::file_mapping& m = storage_->mapping();
  return layout_view{dtype_, shape_, strides_, data(), device_, read_only_, m.base != nullptr,
                     read_only_ && m.base != nullptr && m.shared_read_only && m.fd >= 0};
}

tensor tensor::contiguous() const {
  if (is_contiguous() && is_aligned()) return *this;
  return copy();
}

tensor tensor::copy() const {
  tensor out = empty(shape_, dtype_);
  out.device_ = device_;
  copy_into(*this, out);
  return out;
}

tensor tensor::as_read_only() const {
  tensor t = *this;
  t.read_only_ = true;
  return t;
}

tensor tensor::transpose() const {
  tensor t = *this;
  std::reverse(t.shape_.begin(), t.shape_.end());
  std::reverse(t.strides_.begin(), t.strides_.end());
  return t;
}

tensor tensor::permute(std::span<const std::int64_t> axes) const {
  if (static_cast<std::int64_t>(axes.size()) != ndim())
    fail(error_kind::value, "permute: got ", axes.size(), " axes for a tensor of ", ndim(), " dimensions");
  std::vector<bool> seen(axes.size(), false);
  tensor t = *this;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    std::int64_t a = axes[i] < 0 ? axes[i] + ndim() : axes[i];
    if (a < 0 || a >= ndim() || seen[a])
      fail(error_kind::value, "permute: axes must be a permutation of 0..", ndim() - 1, "; axis ", axes[i],
           " at position ", i, " is out of range or repeated");
    seen[a] = true;
    t.shape_[i] = shape_[a];
    t.strides_[i] = strides_[a];
  }
  return t;
}

tensor tensor::slice(std::int64_t begin, std::int64_t end, std::int64_t step) const {
  if (ndim() == 0) fail(error_kind::value, "slice: a 0-d tensor has no axis 0 to slice");
  if (step == 0) fail(error_kind::value, "slice: step must not be zero");
  std::int64_t n = shape_[0];
  auto clamp = [&](std::int64_t i, std::int64_t lo, std::int64_t hi) {
    if (i < 0) i += n;
    return std::clamp(i, lo, hi);
  };
  std::int64_t count;
  if (step > 0) {
    begin = clamp(begin, 0, n);
    end = clamp(end, 0, n);
    count = end > begin ? (end - begin + step - 1) / step : 0;
  } else {
    begin = clamp(begin, -1, n - 1);
    end = clamp(end, -1, n - 1);
    count = begin > end ? (begin - end - step - 1) / (-step) : 0;
  }
  tensor t = *this;
  t.shape_[0] = count;
  t.strides_[0] = checked_mul(strides_[0], step, "slice", shape_);
  if (count > 0)
    t.byte_offset_ += checked_mul(checked_mul(begin, strides_[0], "slice", shape_),
                                  static_cast<std::int64_t>(itemsize()), "slice", shape_);
  return t;
}

tensor tensor::view(tb::dtype dtype) const {
  if (tb::itemsize(dtype) != itemsize())
    fail(error_kind::type, "view: cannot read ", tb::name(dtype_), " memory as ", tb::name(dtype),
         ": the item sizes differ (", itemsize(), " and ", tb::itemsize(dtype), " bytes)");
  tensor t = *this;
  t.dtype_ = dtype;
  return t;
}

tensor tensor::reshape(shape_t shape) const {
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) fail(error_kind::value, "reshape: only one dimension may be -1 in ", format_tuple(shape));
      infer = static_cast<std::int64_t>(i);
    } else if (shape[i] < 0) {
      fail(error_kind::value, "reshape: invalid dimension ", shape[i], " in ", format_tuple(shape));
    } else {
      known = checked_mul(known, shape[i], "reshape", shape);
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0)
      fail(error_kind::value, "reshape: cannot view ", numel(), " elements as ", format_tuple(shape));
    shape[infer] = numel() / known;
    known *= shape[infer];
  }
  if (known != numel())
    fail(error_kind::value, "reshape: cannot view ", numel(), " elements of shape ", format_tuple(shape_), " as ",
         format_tuple(shape));
  if (!is_contiguous())
    fail(error_kind::value, "reshape: the tensor is not C-contiguous; call contiguous() first");
  tensor t = *this;
  t.strides_ = contiguous_strides(shape);
  t.shape_ = std::move(shape);
  return t;
}

void* tensor::element_address(std::span<const std::int64_t> index, std::size_t expect_size) const {
  if (expect_size != 0 && expect_size != itemsize())
    fail(error_kind::type, "element access: a ", expect_size, "-byte type cannot read ", tb::name(dtype_),
         " elements of ", itemsize(), " bytes");
  if (static_cast<std::int64_t>(index.size()) != ndim())
    fail(error_kind::value, "element access: ", index.size(), " indices for a tensor of ", ndim(), " dimensions");
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < index.size(); ++i) {
    std::int64_t k = index[i] < 0 ? index[i] + shape_[i] : index[i];
    if (k < 0 || k >= shape_[i])
      fail(error_kind::value, "element access: index ", index[i], " is out of bounds for axis ", i, " of size ",
           shape_[i]);
    offset += k * strides_[i];
  }
  return static_cast<std::byte*>(data()) + offset * static_cast<std::int64_t>(itemsize());
}

std::string tensor::describe() const {
  return "tensor(shape=" + format_tuple(shape_) + ", dtype=" + std::string(tb::name(dtype_)) +
         ", strides=" + format_tuple(strides_) + ", device=" + to_string(device_) +
         (read_only_ ? ", read_only=True" : "") + ")";
}

}  // namespace tb
