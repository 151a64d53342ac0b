// The image ops of map_op on batches of HWC images: the unfused form of what a column of image
// files runs fused with its decode (image_source.cpp). Defined per sample, so a block equals its
// batches.

#include "pipeline/image_ops_internal.hpp"

namespace tb {

namespace {

std::pair<std::int64_t, std::int64_t> size_of(const map_op& op) {
  return op.shape.size() == 1 ? std::pair{op.shape[0], op.shape[0]} : std::pair{op.shape[0], op.shape[1]};
}

}  // namespace

map_op map_op::resize(shape_t size, bool antialias) {
  map_op op;
  op.kind = map_kind::resize;
  op.shape = std::move(size);
  op.antialias = antialias;
  return op;
}

map_op map_op::center_crop(shape_t size) {
  map_op op;
  op.kind = map_kind::center_crop;
  op.shape = std::move(size);
  return op;
}

map_op map_op::random_resized_crop(shape_t size, double scale_min, double scale_max, double ratio_min,
                                   double ratio_max) {
  map_op op;
  op.kind = map_kind::random_resized_crop;
  op.shape = std::move(size);
  op.range = {scale_min, scale_max, ratio_min, ratio_max};
  return op;
}

namespace detail {

bool is_image_op(map_kind kind) noexcept {
  return kind == map_kind::resize || kind == map_kind::center_crop || kind == map_kind::random_resized_crop;
}

void validate_image_op(const map_op& op) {
  const char* what = op.kind == map_kind::resize        ? "resize"
                     : op.kind == map_kind::center_crop ? "center_crop"
                                                        : "random_resized_crop";
  if (op.shape.empty() || op.shape.size() > 2 || op.shape[0] < 1 || op.shape.back() < 1)
    fail(error_kind::value, what, ": size must be one number or (height, width), each >= 1");
  if (op.kind == map_kind::random_resized_crop) {
    image_transform t;
    t.crop = image_crop::random_resized;
    t.height = t.width = 1;
    t.scale_min = op.range.at(0);
    t.scale_max = op.range.at(1);
    t.ratio_min = op.range.at(2);
    t.ratio_max = op.range.at(3);
    t.validate();
  }
}

field_spec image_op_spec(const map_op& op, const field_spec& in) {
  if (in.shape.size() != 3)
    fail(error_kind::value, "map(image op): field '", in.name, "' has per-sample shape of ", in.shape.size(),
         " dimensions; image ops take HWC images (height, width, channels)");
  if (op.kind != map_kind::center_crop && in.dtype != dtype::uint8)
    fail(error_kind::type, "map(resize/random_resized_crop): field '", in.name, "' is ", name(in.dtype),
         "; these ops take uint8 images (resize before normalize/cast)");
  field_spec out = in;
  auto [h, w] = size_of(op);
  if (op.kind == map_kind::resize && op.shape.size() == 1) std::tie(h, w) = resized_shorter(in.shape[0], in.shape[1], h);
  out.shape = {h, w, in.shape[2]};
  return out;
}

tensor apply_image_op(const map_op& op, const tensor& batch, std::span<const std::uint64_t> seeds) {
  const std::int64_t n = batch.shape()[0];
  if (op.kind == map_kind::random_resized_crop && static_cast<std::int64_t>(seeds.size()) != n)
    fail(error_kind::value, "map(random_resized_crop): needs one seed per sample (", n, "), got ", seeds.size(),
         "; derive them with tb::sample_seed(seed, epoch, index)");
  field_spec in{"", batch.dtype(), shape_t(batch.shape().begin() + 1, batch.shape().end())};
  const field_spec spec = image_op_spec(op, in);
  tensor out = tensor::empty({n, spec.shape[0], spec.shape[1], spec.shape[2]}, batch.dtype());
  const std::int64_t h = in.shape[0], w = in.shape[1];
  for (std::int64_t i = 0; i < n; ++i) {
    const tensor sample = batch.slice(i, i + 1).contiguous().reshape(in.shape);
    tensor done;
    switch (op.kind) {
      case map_kind::resize: done = resize(sample, spec.shape[0], spec.shape[1], op.antialias); break;
      case map_kind::center_crop: done = crop(sample, center_crop_box(h, w, spec.shape[0], spec.shape[1])); break;
      default: {
        const crop_box b = random_resized_crop_box(h, w, seeds[static_cast<std::size_t>(i)], op.range[0], op.range[1],
                                                   op.range[2], op.range[3]);
        done = resize(crop(sample, b), spec.shape[0], spec.shape[1], op.antialias);
      }
    }
    copy_into(done.reshape({1, spec.shape[0], spec.shape[1], spec.shape[2]}), out.slice(i, i + 1));
  }
  return out;
}

}  // namespace detail
}  // namespace tb
