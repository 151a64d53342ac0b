// A column of image files: tb::dataset::from_files, the fusion of image ops into the decode, and
// the decode of a block's rows into its buffer on the worker thread that makes the block.

#include <algorithm>
#include <cstring>

#include "pipeline/image_ops_internal.hpp"
#include "pipeline/pipeline_internal.hpp"

namespace tb {

namespace detail {

namespace {

shape_t sample_shape_of(const image_source& s) {
  const image_transform& t = s.transform;
  const std::int64_t c = t.mode == image_mode::l ? 1 : t.mode == image_mode::rgba ? 4 : 3;
  std::int64_t h = s.first_height, w = s.first_width;
  if (t.crop != image_crop::none) {
    h = t.height;
    w = t.width;
  } else if (t.resize_height > 0) {
    std::tie(h, w) = t.resize_width > 0 ? std::pair{t.resize_height, t.resize_width}
                                        : resized_shorter(h, w, t.resize_height);
  }
  return t.layout == image_layout::chw ? shape_t{c, h, w} : shape_t{h, w, c};
}

// Folds `op` into `t` when it can run at its place in the fused order
// (resize -> crop -> flip/normalize/permute/cast).
bool fold(image_transform& t, const map_op& op) {
  const bool finishing = t.flip_probability > 0 || !t.mean.empty() || t.layout == image_layout::chw ||
                         t.dtype != dtype::uint8;
  const auto size = [&op] {
    return op.shape.size() == 1 ? std::pair{op.shape[0], op.shape[0]} : std::pair{op.shape[0], op.shape[1]};
  };
  switch (op.kind) {
    case map_kind::resize:
      if (finishing || t.crop != image_crop::none || t.resize_height > 0) return false;
      t.resize_height = op.shape[0];
      t.resize_width = op.shape.size() == 2 ? op.shape[1] : 0;
      t.antialias = op.antialias;
      return true;
    case map_kind::center_crop:
      if (finishing || t.crop != image_crop::none) return false;
      t.crop = image_crop::center;
      std::tie(t.height, t.width) = size();
      return true;
    case map_kind::random_resized_crop:
      if (finishing || t.crop != image_crop::none || t.resize_height > 0) return false;
      t.crop = image_crop::random_resized;
      std::tie(t.height, t.width) = size();
      t.scale_min = op.range[0];
      t.scale_max = op.range[1];
      t.ratio_min = op.range[2];
      t.ratio_max = op.range[3];
      t.antialias = op.antialias;
      return true;
    case map_kind::random_flip: {
      const std::int64_t width_axis = t.layout == image_layout::chw ? 2 : 1;
      if (op.axes.size() != 1 || op.axes[0] != width_axis || t.flip_probability > 0) return false;
      t.flip_probability = op.p;
      return true;
    }
    case map_kind::normalize:
      if (!t.mean.empty() || (t.layout == image_layout::chw && op.mean.size() > 1)) return false;
      if (op.dtype != dtype::float32 && op.dtype != dtype::float16 && op.dtype != dtype::bfloat16) return false;
      if (op.mean.size() > 1 && static_cast<std::int64_t>(op.mean.size()) !=
                                    (t.mode == image_mode::l ? 1 : t.mode == image_mode::rgba ? 4 : 3))
        return false;
      t.mean = op.mean;
      t.std = op.std;
      t.dtype = op.dtype;
      return true;
    case map_kind::permute:
      if (op.axes == shape_t{0, 1, 2}) return true;
      if (op.axes != shape_t{2, 0, 1} || t.layout == image_layout::chw) return false;
      t.layout = image_layout::chw;
      return true;
    case map_kind::cast:
      if (op.dtype != dtype::float32 && op.dtype != dtype::float16 && op.dtype != dtype::bfloat16 &&
          op.dtype != dtype::uint8)
        return false;
      if (op.dtype == dtype::uint8 && (t.dtype != dtype::uint8 || !t.mean.empty())) return false;
      t.dtype = op.dtype;
      return true;
    default: return false;
  }
}

}  // namespace

bool fold_image_op(image_source& source, const map_op& op) {
  if (source.sealed) return false;
  image_transform t = source.transform;
  if (!fold(t, op)) {
    source.sealed = true;
    return false;
  }
  source.transform = t;
  source.sample_shape = sample_shape_of(source);
  return true;
}

void gather_images(const image_source& source, std::span<const std::int64_t> rows,
                   std::span<const std::uint64_t> seeds, const tensor& dst) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::string& path = source.paths[static_cast<std::size_t>(rows[i])];
    const std::vector<std::byte> bytes = read_file_bytes(path, source.storage);
    const auto r = static_cast<std::int64_t>(i);
    try {
      transform_image_into(bytes, source.transform, seeds[i], dst.slice(r, r + 1).reshape(source.sample_shape), path);
    } catch (const error& e) {
      if (e.kind() != error_kind::format) throw;
      fail(error_kind::format, e.what(), " (on_error=\"skip\" leaves out the files that do not decode)");
    }
  }
}

}  // namespace detail

namespace {

// The rows of `t` (shape (n, ...)) whose indices are in `keep`, as a new tensor.
tensor take_rows(const tensor& t, const std::vector<std::int64_t>& keep) {
  const tensor src = t.contiguous();
  shape_t shape = src.shape();
  shape[0] = static_cast<std::int64_t>(keep.size());
  tensor out = tensor::empty(shape, src.dtype());
  const std::size_t row = src.shape()[0] > 0 ? src.nbytes() / static_cast<std::size_t>(src.shape()[0]) : 0;
  const auto* from = static_cast<const std::byte*>(src.data());
  auto* to = static_cast<std::byte*>(out.data());
  for (std::size_t i = 0; i < keep.size(); ++i)
    std::memcpy(to + i * row, from + static_cast<std::size_t>(keep[i]) * row, row);
  return out;
}

}  // namespace

dataset dataset::from_files(std::vector<std::string> paths, std::optional<tensor> labels,
                            const image_files_options& options) {
  options.decode.validate();
  if (paths.empty()) fail(error_kind::value, "from_files: no files given; pass a list of image paths");
  const auto given = static_cast<std::int64_t>(paths.size());
  if (labels && (labels->ndim() < 1 || labels->shape()[0] != given))
    fail(error_kind::value, "from_files: ", given, " files but labels of shape ", labels->describe(),
         "; pass one label per file");
  const image_mode mode = options.decode.mode == image_mode::unchanged ? image_mode::rgb : options.decode.mode;
  std::vector<image_file_problem> skipped;
  if (options.on_error == image_error_action::skip) {
    image_check_options check;
    check.decode = options.decode;
    check.decode.mode = mode;
    check.decode.apply_exif_orientation = false;
    check.num_threads = options.check_threads;
    check.progress = options.progress;
    check.storage = options.storage;
    skipped = check_image_files(paths, check);
    if (skipped.size() == paths.size())
      fail(error_kind::format, "from_files: none of the ", given, " files decodes (on_error=\"skip\" left out all); the first: ",
           skipped.front().reason);
    if (!skipped.empty()) {
      std::vector<std::int64_t> keep;
      std::vector<std::string> kept;
      for (std::int64_t i = 0, k = 0; i < given; ++i) {
        if (k < static_cast<std::int64_t>(skipped.size()) && skipped[static_cast<std::size_t>(k)].index == i) {
          ++k;
          continue;
        }
        keep.push_back(i);
        kept.push_back(std::move(paths[static_cast<std::size_t>(i)]));
      }
      paths = std::move(kept);
      if (labels) labels = take_rows(*labels, keep);
    }
  }
  const auto n = static_cast<std::int64_t>(paths.size());
  auto source = std::make_shared<image_source>();
  source->storage = options.storage;
  const std::vector<std::byte> first = read_file_bytes(paths[0], options.storage);
  const image_info info = read_image_info(first, paths[0]);
  source->first_height = info.height;
  source->first_width = info.width;
  source->transform.mode = mode;
  source->transform.max_pixels = options.decode.max_pixels;
  source->transform.dct_scaling = options.dct_scaling;
  source->skipped = std::move(skipped);
  source->sample_shape = detail::sample_shape_of(*source);
  std::uint64_t h = 0x243f6a8885a308d3ull;
  for (const std::string& p : paths)
    for (char ch : p) h = (h ^ static_cast<unsigned char>(ch)) * 0x100000001b3ull;
  source->paths = std::move(paths);

  tensor index = tensor::empty({n}, dtype::int64);
  auto* ix = static_cast<std::int64_t*>(index.data());
  for (std::int64_t i = 0; i < n; ++i) ix[i] = i;
  std::vector<dataset_field> fields;
  fields.push_back({"image", index, {}, source});
  if (labels) fields.push_back({"label", *labels});
  const dataset base = from_tensor_slices(std::move(fields));
  auto plan = std::make_shared<detail::dataset_plan>(*base.plan_);
  plan->specs[0] = {"image", dtype::uint8, source->sample_shape};
  plan->source_hash ^= h;
  return dataset(std::move(plan));
}

std::vector<image_file_problem> dataset::skipped_files() const {
  for (const dataset_field& f : plan_->fields)
    if (f.images) return f.images->skipped;
  return {};
}

}  // namespace tb
