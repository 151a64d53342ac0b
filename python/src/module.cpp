#include <cstdlib>

#include "bindings.hpp"

NB_MODULE(_ext, m) {
  m.doc() = "tensorbridge's C++ core (private; use the tensorbridge package)";
  // nanobind lists the objects still alive when the interpreter finalises it. Libraries that cache
  // types keep ours alive to the end (polars memoises the classes it was handed, so a script that
  // gave it a Table printed "nanobind: leaked ..." on exit): the list is shown only on request.
  nanobind::set_leak_warnings(std::getenv("TB_LEAK_WARNINGS") != nullptr);
  tb::python::register_errors(m);
  tb::python::register_tensor(m);
  tb::python::register_ndarray(m);
  tb::python::register_conversion(m);
  tb::python::register_cast(m);
  tb::python::register_source(m);
  tb::python::register_io(m);
  tb::python::register_csv(m);
  tb::python::register_image(m);
  tb::python::register_pipeline(m);
  tb::python::register_arrow(m);
}
