#include "bindings.hpp"

NB_MODULE(_ext, m) {
  m.doc() = "tensorbridge's C++ core (private; use the tensorbridge package)";
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
