// Native map ops: cast, normalize, one_hot, permute, reshape, applied to whole batches. Shapes and
// axes in a map_op are per sample; the batch dimension is added here.

#include <cstring>
#include <span>
#include <type_traits>

#include "core/dispatch_internal.hpp"
#include "pipeline/image_ops_internal.hpp"
#include "pipeline/pipeline_internal.hpp"
#include "tensorbridge/cast/cast.hpp"

namespace tb {
namespace {

const char* kind_name(map_kind k) {
  switch (k) {
    case map_kind::cast: return "cast";
    case map_kind::normalize: return "normalize";
    case map_kind::one_hot: return "one_hot";
    case map_kind::permute: return "permute";
    case map_kind::reshape: return "reshape";
    case map_kind::random_flip: return "random_flip";
    case map_kind::resize: return "resize";
    case map_kind::center_crop: return "center_crop";
    case map_kind::random_resized_crop: return "random_resized_crop";
  }
  return "?";
}

std::int64_t product(const shape_t& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

// The per-sample shape of a reshape, with its -1 resolved against `numel` elements.
shape_t resolve_shape(const shape_t& shape, std::int64_t numel, const std::string& field) {
  shape_t out = shape;
  std::int64_t known = 1, infer = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) infer = static_cast<std::int64_t>(i);
    else known *= out[i];
  }
  if (infer >= 0 && known > 0 && numel % known == 0) out[static_cast<std::size_t>(infer)] = numel / known;
  if (product(out) != numel || (infer >= 0 && known == 0))
    fail(error_kind::value, "map(reshape", format_tuple(shape), ") on field '", field, "': a sample has ", numel,
         " elements, which cannot be viewed as ", format_tuple(shape));
  return out;
}

tensor new_tensor(shape_t shape, dtype t, detail::batch_arena* arena) {
  return arena ? arena->empty(std::move(shape), t) : tensor::empty(std::move(shape), t);
}

tensor normalize(const map_op& op, const tensor& batch, detail::batch_arena* arena) {
  // Work in float32 or float64; half-precision outputs are produced by a final cast.
  const dtype work = op.dtype == dtype::float64 ? dtype::float64 : dtype::float32;
  tensor x = new_tensor(batch.shape(), work, arena);
  cast_into(batch, x);
  const std::size_t k = op.mean.size();
  detail::visit_dtype(work, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      std::vector<T> mean(op.mean.begin(), op.mean.end()), inv(k);
      for (std::size_t i = 0; i < k; ++i) inv[i] = static_cast<T>(1.0 / op.std[i]);
      T* p = static_cast<T*>(x.data());
      const std::int64_t n = x.numel();
      if (k == 1) {
        for (std::int64_t i = 0; i < n; ++i) p[i] = (p[i] - mean[0]) * inv[0];
      } else {
        for (std::int64_t i = 0; i < n; i += static_cast<std::int64_t>(k))
          for (std::size_t j = 0; j < k; ++j) p[i + j] = (p[i + j] - mean[j]) * inv[j];
      }
    }
  });
  if (work == op.dtype) return x;
  tensor out = new_tensor(batch.shape(), op.dtype, arena);
  cast_into(x, out);
  return out;
}

tensor one_hot(const map_op& op, const tensor& batch, detail::batch_arena* arena) {
  shape_t shape = batch.shape();
  shape.push_back(op.depth);
  tensor out = new_tensor(shape, op.dtype, arena);
  std::memset(out.data(), 0, out.nbytes());
  // The bytes of the value 1 in the output dtype, made once by the cast kernels.
  tensor one = tensor::empty({1}, dtype::int64), one_out = tensor::empty({1}, op.dtype);
  one.at<std::int64_t>({0}) = 1;
  cast_into(one, one_out);
  const tensor labels = batch.contiguous();
  const std::size_t size = out.itemsize();
  auto* dst = static_cast<std::byte*>(out.data());
  detail::visit_dtype(labels.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      const T* p = static_cast<const T*>(labels.data());
      for (std::int64_t i = 0, n = labels.numel(); i < n; ++i) {
        if constexpr (std::is_same_v<T, bool>) {
          std::memcpy(dst + (static_cast<std::size_t>(i * op.depth) + p[i]) * size, one_out.data(), size);
        } else {
          if (p[i] < 0 || static_cast<std::uint64_t>(p[i]) >= static_cast<std::uint64_t>(op.depth))
            fail(error_kind::value, "map(one_hot(", op.depth, ")): label ", static_cast<std::int64_t>(p[i]),
                 " at flat index ", i, " of the batch is outside [0, ", op.depth, "); pass a larger depth");
          std::memcpy(dst + static_cast<std::size_t>(i * op.depth + static_cast<std::int64_t>(p[i])) * size,
                      one_out.data(), size);
        }
      }
    }
  });
  return out;
}

// Each sample is copied as is or reversed along the op's axis, by a draw from its own stream.
tensor random_flip(const map_op& op, const tensor& batch, detail::batch_arena* arena,
                   std::span<const std::uint64_t> seeds) {
  const std::int64_t rows = batch.shape()[0];
  if (static_cast<std::int64_t>(seeds.size()) != rows)
    fail(error_kind::value, "map(random_flip): needs one seed per sample (", rows, "), got ", seeds.size(),
         "; derive them with tb::sample_seed(seed, epoch, index)");
  tensor out = new_tensor(batch.shape(), batch.dtype(), arena);
  const std::int64_t axis = op.axes[0] + 1;
  // The top 53 bits of a mixed seed are a uniform double in [0, 1).
  const auto threshold = static_cast<std::uint64_t>(op.p * 9007199254740992.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    tensor src = batch.slice(r, r + 1);
    if ((detail::mix64(seeds[static_cast<std::size_t>(r)] ^ 0x5eedf11bull) >> 11) < threshold) {
      shape_t order(static_cast<std::size_t>(batch.ndim()));
      for (std::size_t a = 0; a < order.size(); ++a) order[a] = static_cast<std::int64_t>(a);
      std::swap(order[0], order[static_cast<std::size_t>(axis)]);
      const std::int64_t n = src.shape()[static_cast<std::size_t>(axis)];
      src = src.permute(order).slice(n - 1, -n - 1, -1).permute(order);
    }
    copy_into(src, out.slice(r, r + 1));
  }
  return out;
}

}  // namespace

map_op map_op::cast(tb::dtype to) {
  map_op op;
  op.kind = map_kind::cast;
  op.dtype = to;
  return op;
}

map_op map_op::normalize(std::vector<double> mean, std::vector<double> std, tb::dtype dtype) {
  map_op op;
  op.kind = map_kind::normalize;
  op.mean = std::move(mean);
  op.std = std::move(std);
  op.dtype = dtype;
  return op;
}

map_op map_op::one_hot(std::int64_t depth, tb::dtype dtype) {
  map_op op;
  op.kind = map_kind::one_hot;
  op.depth = depth;
  op.dtype = dtype;
  return op;
}

map_op map_op::permute(shape_t axes) {
  map_op op;
  op.kind = map_kind::permute;
  op.axes = std::move(axes);
  return op;
}

map_op map_op::reshape(shape_t shape) {
  map_op op;
  op.kind = map_kind::reshape;
  op.shape = std::move(shape);
  return op;
}

map_op map_op::random_flip(std::int64_t axis, double p) {
  map_op op;
  op.kind = map_kind::random_flip;
  op.axes = {axis};
  op.p = p;
  return op;
}

void map_op::validate() const {
  if (detail::is_image_op(kind)) return detail::validate_image_op(*this);
  switch (kind) {
    case map_kind::cast: return;
    case map_kind::normalize:
      if (mean.empty() || mean.size() != std.size())
        fail(error_kind::value, "normalize: mean and std need the same, non-zero length; got ", mean.size(), " and ",
             std.size());
      for (std::size_t i = 0; i < std.size(); ++i)
        if (std[i] == 0) fail(error_kind::value, "normalize: std[", i, "] is 0; pass non-zero deviations");
      if (!is_floating(dtype))
        fail(error_kind::type, "normalize: the output dtype must be floating, got ", name(dtype));
      return;
    case map_kind::one_hot:
      if (depth < 1) fail(error_kind::value, "one_hot: depth must be at least 1, got ", depth);
      return;
    case map_kind::permute: {
      std::vector<bool> seen(axes.size(), false);
      for (auto a : axes) {
        if (a < 0 || a >= static_cast<std::int64_t>(axes.size()) || seen[static_cast<std::size_t>(a)])
          fail(error_kind::value, "permute: axes ", format_tuple(axes), " are not a permutation of 0..",
               static_cast<std::int64_t>(axes.size()) - 1);
        seen[static_cast<std::size_t>(a)] = true;
      }
      return;
    }
    case map_kind::reshape: {
      int inferred = 0;
      for (auto d : shape) {
        if (d == -1) ++inferred;
        else if (d < 0) fail(error_kind::value, "reshape: dimension ", d, " in ", format_tuple(shape), " is negative");
      }
      if (inferred > 1) fail(error_kind::value, "reshape: at most one -1 in ", format_tuple(shape));
      return;
    }
    case map_kind::random_flip:
      if (axes.size() != 1 || axes[0] < 0)
        fail(error_kind::value, "random_flip: expected one per-sample axis >= 0, got ", format_tuple(axes));
      if (!(p >= 0 && p <= 1))
        fail(error_kind::value, "random_flip: p (the probability of a flip) must be in [0, 1], got ", p);
      return;
    case map_kind::resize:
    case map_kind::center_crop:
    case map_kind::random_resized_crop: break;  // image_ops.cpp, dispatched above
  }
}

field_spec map_op::output_spec(const field_spec& in) const {
  validate();
  field_spec out = in;
  const std::string where = std::string("map(") + kind_name(kind) + ") on field '" + in.name + "'";
  if (detail::is_image_op(kind)) return detail::image_op_spec(*this, in);
  switch (kind) {
    case map_kind::cast: out.dtype = dtype; break;
    case map_kind::normalize:
      if (is_complex(in.dtype)) fail(error_kind::type, where, ": cannot normalize complex values");
      if (mean.size() > 1 && (in.shape.empty() || in.shape.back() != static_cast<std::int64_t>(mean.size())))
        fail(error_kind::value, where, ": ", mean.size(), " means need a last axis of ", mean.size(),
             " elements, but a sample has shape ", format_tuple(in.shape));
      out.dtype = dtype;
      break;
    case map_kind::one_hot:
      if (!is_integer(in.dtype) && in.dtype != dtype::bool_)
        fail(error_kind::type, where, ": labels must be integers, got ", name(in.dtype),
             "; cast them first with tb.ops.cast(\"int64\")");
      if (in.dtype == dtype::bool_ && depth < 2)
        fail(error_kind::value, where, ": boolean labels need depth >= 2");
      out.shape.push_back(depth);
      out.dtype = dtype;
      break;
    case map_kind::permute:
      if (axes.size() != in.shape.size())
        fail(error_kind::value, where, ": axes ", format_tuple(axes), " do not match a sample of shape ",
             format_tuple(in.shape), " (axes count per sample, without the batch dimension)");
      out.shape.clear();
      for (auto a : axes) out.shape.push_back(in.shape[static_cast<std::size_t>(a)]);
      break;
    case map_kind::reshape: out.shape = resolve_shape(shape, product(in.shape), in.name); break;
    case map_kind::random_flip:
      if (axes[0] >= static_cast<std::int64_t>(in.shape.size()))
        fail(error_kind::value, where, ": axis ", axes[0], " is out of range for a sample of shape ",
             format_tuple(in.shape), " (axes count per sample, without the batch dimension)");
      break;
    case map_kind::resize:
    case map_kind::center_crop:
    case map_kind::random_resized_crop: break;  // image_ops.cpp, dispatched above
  }
  return out;
}

tensor map_op::apply(const tensor& batch, std::span<const std::uint64_t> seeds) const {
  return detail::apply_op(*this, batch, nullptr, seeds);
}

namespace detail {

tensor apply_op(const map_op& op, const tensor& batch, batch_arena* arena, std::span<const std::uint64_t> seeds) {
  if (batch.ndim() < 1) fail(error_kind::value, "map(", kind_name(op.kind), "): expected a batch, got a 0-d tensor");
  field_spec in{"batch", batch.dtype(), shape_t(batch.shape().begin() + 1, batch.shape().end())};
  field_spec out = op.output_spec(in);
  shape_t full = out.shape;
  full.insert(full.begin(), batch.shape()[0]);
  if (is_image_op(op.kind)) return apply_image_op(op, batch, seeds);
  switch (op.kind) {
    case map_kind::cast: {
      if (batch.dtype() == op.dtype) return batch;
      tensor dst = new_tensor(full, op.dtype, arena);
      cast_into(batch, dst);
      return dst;
    }
    case map_kind::normalize: return normalize(op, batch, arena);
    case map_kind::one_hot: return one_hot(op, batch, arena);
    case map_kind::permute: {
      shape_t axes{0};
      for (auto a : op.axes) axes.push_back(a + 1);
      tensor dst = new_tensor(full, batch.dtype(), arena);
      copy_into(batch.permute(axes), dst);
      return dst;
    }
    case map_kind::reshape: return batch.contiguous().reshape(full);
    case map_kind::random_flip: return random_flip(op, batch, arena, seeds);
    case map_kind::resize:
    case map_kind::center_crop:
    case map_kind::random_resized_crop: break;  // image_ops.cpp, dispatched above
  }
  return batch;
}

}  // namespace detail
}  // namespace tb
