#pragma once
// The image ops of map_op (resize, center_crop, random_resized_crop) on batches of HWC images,
// and their fusion into a column of image files (image_source.cpp).

#include <span>

#include "tensorbridge/pipeline/dataset.hpp"

namespace tb::detail {

/// True for the map kinds defined here.
bool is_image_op(map_kind kind) noexcept;
/// map_op::validate for an image op.
void validate_image_op(const map_op& op);
/// map_op::output_spec for an image op.
field_spec image_op_spec(const map_op& op, const field_spec& in);
/// Applies an image op to a batch (n, h, w, c), one sample at a time.
tensor apply_image_op(const map_op& op, const tensor& batch, std::span<const std::uint64_t> seeds);

/// Folds `op` into the transform of `source` if it can run fused with the decode (in the order
/// it was mapped); false leaves `source` unchanged.
bool fold_image_op(image_source& source, const map_op& op);

/// Decodes and transforms the files of `rows` (one seed each) into `dst` (rows, sample_shape...).
void gather_images(const image_source& source, std::span<const std::int64_t> rows,
                   std::span<const std::uint64_t> seeds, const tensor& dst);

}  // namespace tb::detail
