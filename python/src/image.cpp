// Binds image decoding (tensorbridge/image/image.hpp). No logic: tensorbridge/image.py checks the
// arguments and builds the options.

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>
#include <nanobind/stl/optional.h>

#include <memory>

#include "bindings.hpp"
#include "tensorbridge/pipeline/dataset.hpp"
#include "tensorbridge/image/image.hpp"
#include "tensorbridge/image/ops.hpp"

namespace nb = nanobind;

namespace tb::python {

void register_image(nb::module_& m) {
  nb::class_<image_decode_options>(m, "ImageDecodeOptions", "tb::image_decode_options")
      .def(nb::init<>())
      .def_prop_rw(
          "mode", [](const image_decode_options& o) { return std::string(to_string(o.mode)); },
          [](image_decode_options& o, const std::string& mode) { o.mode = image_mode_from_name(mode); })
      .def_rw("apply_exif_orientation", &image_decode_options::apply_exif_orientation)
      .def_rw("max_pixels", &image_decode_options::max_pixels)
      .def_ro_static("default_max_pixels", &image_decode_options::default_max_pixels)
      .def("validate", &image_decode_options::validate);

  m.def("read_image", &read_image, nb::call_guard<nb::gil_scoped_release>());
  m.def("decode_image", [](nb::bytes data, const image_decode_options& options, const std::string& name) {
    // `data` stays referenced by the caller's frame while the GIL is released.
    const auto bytes = std::as_bytes(std::span<const char>(data.c_str(), data.size()));
    nb::gil_scoped_release unlocked;
    return decode_image(bytes, options, name);
  });

  nb::class_<crop_box>(m, "CropBox", "tb::crop_box")
      .def(nb::init<>())
      .def_rw("top", &crop_box::top)
      .def_rw("left", &crop_box::left)
      .def_rw("height", &crop_box::height)
      .def_rw("width", &crop_box::width);
  m.def("random_resized_crop_box", &random_resized_crop_box);
  m.def("center_crop_box", &center_crop_box);
  m.def("resize_image", &resize, nb::call_guard<nb::gil_scoped_release>());
  m.def("crop_image", &crop, nb::call_guard<nb::gil_scoped_release>());

  nb::class_<image_transform>(m, "ImageTransform", "tb::image_transform")
      .def(nb::init<>())
      .def_prop_rw(
          "mode", [](const image_transform& t) { return std::string(to_string(t.mode)); },
          [](image_transform& t, const std::string& mode) { t.mode = image_mode_from_name(mode); })
      .def_rw("max_pixels", &image_transform::max_pixels)
      .def_rw("resize_height", &image_transform::resize_height)
      .def_rw("resize_width", &image_transform::resize_width)
      .def_prop_rw(
          "crop", [](const image_transform& t) { return static_cast<int>(t.crop); },
          [](image_transform& t, int c) { t.crop = static_cast<image_crop>(c); })
      .def_rw("height", &image_transform::height)
      .def_rw("width", &image_transform::width)
      .def_rw("scale_min", &image_transform::scale_min)
      .def_rw("scale_max", &image_transform::scale_max)
      .def_rw("ratio_min", &image_transform::ratio_min)
      .def_rw("ratio_max", &image_transform::ratio_max)
      .def_rw("antialias", &image_transform::antialias)
      .def_rw("flip_probability", &image_transform::flip_probability)
      .def_rw("mean", &image_transform::mean)
      .def_rw("std", &image_transform::std)
      .def_prop_rw(
          "chw", [](const image_transform& t) { return t.layout == image_layout::chw; },
          [](image_transform& t, bool chw) { t.layout = chw ? image_layout::chw : image_layout::hwc; })
      .def_prop_rw(
          "dtype", [](const image_transform& t) { return std::string(name(t.dtype)); },
          [](image_transform& t, const std::string& d) { t.dtype = dtype_from_name(d); })
      .def_rw("dct_scaling", &image_transform::dct_scaling)
      .def("validate", &image_transform::validate)
      .def("fixed_size", &image_transform::fixed_size)
      .def("is_random", &image_transform::is_random);
  // The image ops of tb::map_op and the image-file source of tb::dataset (tensorbridge/dataset.hpp).
  m.def("map_op_resize", &map_op::resize);
  m.def("map_op_center_crop", &map_op::center_crop);
  m.def("map_op_random_resized_crop", &map_op::random_resized_crop);
  m.def("dataset_from_files",
        [](std::vector<std::string> paths, std::optional<tensor> labels, const image_decode_options& decode,
           bool dct_scaling, bool skip, int check_threads, nb::object progress,
           const storage_options& storage) {
          image_files_options o;
          o.decode = decode;
          o.dct_scaling = dct_scaling;
          o.on_error = skip ? image_error_action::skip : image_error_action::raise;
          o.check_threads = check_threads;
          o.storage = storage;
          // Copies of the std::function (made without the GIL) share one reference to `progress`,
          // dropped with `o`, after the GIL is taken back.
          if (!progress.is_none())
            o.progress = [callback = std::make_shared<nb::object>(progress)](std::int64_t done, std::int64_t total) {
              nb::gil_scoped_acquire locked;
              (*callback)(done, total);
            };
          nb::gil_scoped_release unlocked;
          return dataset::from_files(std::move(paths), std::move(labels), o);
        },
        nb::arg("paths"), nb::arg("labels").none(), nb::arg("decode"), nb::arg("dct_scaling"), nb::arg("skip"),
        nb::arg("check_threads"), nb::arg("progress").none(), nb::arg("storage"));
  m.def("dataset_skipped_files", [](const dataset& ds) {
    std::vector<std::pair<std::string, std::string>> out;
    for (image_file_problem& p : ds.skipped_files()) out.emplace_back(std::move(p.path), std::move(p.reason));
    return out;
  });
  m.def(
      "list_image_folder",
      [](const std::string& root, const std::vector<std::string>& extensions, const storage_options& storage) {
        image_folder_listing l = list_image_folder(root, extensions, storage);
        return std::tuple{std::move(l.class_names), std::move(l.paths), std::move(l.labels)};
      },
      nb::call_guard<nb::gil_scoped_release>());
  m.def("transform_image", [](nb::bytes data, const image_transform& t, std::uint64_t seed, const std::string& name) {
    const auto bytes = std::as_bytes(std::span<const char>(data.c_str(), data.size()));
    nb::gil_scoped_release unlocked;
    return transform_image(bytes, t, seed, name);
  });
}

}  // namespace tb::python
