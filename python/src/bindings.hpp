#pragma once
// Each binding file registers one concept on the extension module.

#include <nanobind/nanobind.h>

namespace tb::python {

void register_errors(nanobind::module_& m);
void register_tensor(nanobind::module_& m);
void register_ndarray(nanobind::module_& m);
void register_conversion(nanobind::module_& m);
void register_cast(nanobind::module_& m);
void register_io(nanobind::module_& m);
void register_csv(nanobind::module_& m);
void register_pipeline(nanobind::module_& m);
void register_arrow(nanobind::module_& m);
void register_image(nanobind::module_& m);
void register_source(nanobind::module_& m);

}  // namespace tb::python
