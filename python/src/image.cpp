// Binds image decoding (tensorbridge/image/image.hpp). No logic: tensorbridge/image.py checks the
// arguments and builds the options.

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include "bindings.hpp"
#include "tensorbridge/image/image.hpp"

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
}

}  // namespace tb::python
