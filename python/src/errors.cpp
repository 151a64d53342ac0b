// The one place where C++ `tb::error` kinds become Python exceptions.

#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "tensorbridge/core/error.hpp"

namespace nb = nanobind;

namespace tb::python {

void register_errors(nb::module_& m) {
  // The exception classes are defined in Python (tensorbridge/errors.py) so that they subclass the
  // built-ins; the translator looks them up by kind name on first use.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const tb::error& e) {
      nb::object errors = nb::module_::import_("tensorbridge.errors");
      nb::object cls = errors.attr("_class_for_kind")(tb::to_string(e.kind()));
      PyErr_SetString(cls.ptr(), e.what());
    }
  });
}

}  // namespace tb::python
