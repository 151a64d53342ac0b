// Binds the callable behind tb.to_numpy/to_torch/to_tf/to_jax: a call with the source alone (or
// with options that are their defaults themselves) goes to the shortcut of the source's type
// (looked up in a dict, asked of the adapter once per type) without entering Python; any other
// call, and a source the shortcut does not share, goes to the Python function, which plans and
// explains. What is shared is decided by the shortcuts (each asks tb::plan_export); this object
// only routes the call.

#include <cstddef>

#include <nanobind/nanobind.h>
#include <structmember.h>

#include "bindings.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

struct conversion_object {
  PyObject_HEAD
  vectorcallfunc vectorcall;
  PyObject* shortcuts;  // dict: exact source type -> its shortcut (callable) or None
  PyObject* learn;      // learn(type) -> the shortcut of that type, or None
  PyObject* general;    // the Python function: every argument, the general path
  PyObject* defaults;   // general.__defaults__: of the positional parameters after the source
  PyObject* kwdefaults; // general.__kwdefaults__: of the keyword-only parameters
  PyObject* dict;       // __dict__: __doc__, __name__, __wrapped__...
};

// Whether the call passes nothing but the source and arguments that are their parameters'
// defaults themselves (`dtype=None`, `copy=None`, `device="cpu"`...: the same objects), so it is
// the call with the source alone.
bool source_alone(const conversion_object* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs < 1 || nargs - 1 > PyTuple_GET_SIZE(self->defaults)) return false;
  for (Py_ssize_t i = 1; i < nargs; ++i)
    if (args[i] != PyTuple_GET_ITEM(self->defaults, i - 1)) return false;
  const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject* preset = PyDict_GetItemWithError(self->kwdefaults, PyTuple_GET_ITEM(kwnames, i));  // borrowed
    if (!preset) {
      PyErr_Clear();
      return false;
    }
    if (args[nargs + i] != preset) return false;
  }
  return true;
}

// The shortcut of `kind` (borrowed), learnt on first sight; nullptr with an error set on failure.
PyObject* shortcut_of(conversion_object* self, PyObject* kind) {
  PyObject* share = PyDict_GetItemWithError(self->shortcuts, kind);
  if (share || PyErr_Occurred()) return share;
  PyObject* learnt = PyObject_CallOneArg(self->learn, kind);
  if (!learnt) return nullptr;
  const int stored = PyDict_SetItem(self->shortcuts, kind, learnt);
  Py_DECREF(learnt);  // the dict holds it
  return stored == 0 ? learnt : nullptr;
}

PyObject* conversion_call(PyObject* obj, PyObject* const* args, std::size_t nargsf, PyObject* kwnames) {
  auto* self = reinterpret_cast<conversion_object*>(obj);
  if (source_alone(self, args, PyVectorcall_NARGS(nargsf), kwnames)) {
    PyObject* share = shortcut_of(self, reinterpret_cast<PyObject*>(Py_TYPE(args[0])));
    if (!share) return nullptr;
    if (share != Py_None) {
      Py_INCREF(share);  // borrowed from the dict, which the call could change
      PyObject* shared = PyObject_CallOneArg(share, args[0]);
      Py_DECREF(share);
      if (shared && shared != Py_None) return shared;
      if (shared) {
        Py_DECREF(shared);
      } else if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();  // the framework's own call refused it: the general path says why
      } else {
        return nullptr;  // KeyboardInterrupt, SystemExit...
      }
    }
  }
  return PyObject_Vectorcall(self->general, args, nargsf, kwnames);
}

int conversion_traverse(PyObject* obj, visitproc visit, void* arg) {
  auto* self = reinterpret_cast<conversion_object*>(obj);
  Py_VISIT(self->shortcuts);
  Py_VISIT(self->learn);
  Py_VISIT(self->general);
  Py_VISIT(self->defaults);
  Py_VISIT(self->kwdefaults);
  Py_VISIT(self->dict);
  return 0;
}

int conversion_clear(PyObject* obj) {
  auto* self = reinterpret_cast<conversion_object*>(obj);
  Py_CLEAR(self->shortcuts);
  Py_CLEAR(self->learn);
  Py_CLEAR(self->general);
  Py_CLEAR(self->defaults);
  Py_CLEAR(self->kwdefaults);
  Py_CLEAR(self->dict);
  return 0;
}

void conversion_dealloc(PyObject* obj) {
  PyTypeObject* type = Py_TYPE(obj);
  PyObject_GC_UnTrack(obj);
  conversion_clear(obj);
  type->tp_free(obj);
  Py_DECREF(type);  // an instance of a heap type holds a reference to it
}

// Pickled (and copied) by name, as a function is: the module's attribute of that name.
PyObject* conversion_reduce(PyObject* obj, PyObject*) { return PyObject_GetAttrString(obj, "__qualname__"); }

PyObject* conversion_repr(PyObject* obj) {
  PyObject* name = PyObject_GetAttrString(obj, "__qualname__");
  if (!name) return nullptr;
  PyObject* out = PyUnicode_FromFormat("<tensorbridge conversion %U>", name);
  Py_DECREF(name);
  return out;
}

PyMethodDef conversion_methods[] = {
    {"__reduce__", conversion_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef conversion_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(conversion_object, dict), READONLY, nullptr},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(conversion_object, vectorcall), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot conversion_slots[] = {
    {Py_tp_doc, const_cast<char*>("A conversion (tb.to_numpy...): its own docstring says what it does.")},
    {Py_tp_call, reinterpret_cast<void*>(PyVectorcall_Call)},
    {Py_tp_traverse, reinterpret_cast<void*>(conversion_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(conversion_clear)},
    {Py_tp_dealloc, reinterpret_cast<void*>(conversion_dealloc)},
    {Py_tp_members, conversion_members},
    {Py_tp_methods, conversion_methods},
    {Py_tp_repr, reinterpret_cast<void*>(conversion_repr)},
    {0, nullptr},
};

PyType_Spec conversion_spec = {
    "tensorbridge._ext.Conversion", sizeof(conversion_object), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL, conversion_slots,
};

}  // namespace

void register_conversion(nb::module_& m) {
  nb::object type = nb::steal(PyType_FromSpec(&conversion_spec));
  if (!type.is_valid()) throw nb::python_error();
  m.def(
      "conversion",
      [type](nb::dict shortcuts, nb::callable learn, nb::callable general) {
        nb::object defaults = general.attr("__defaults__"), kwdefaults = general.attr("__kwdefaults__");
        if (!PyTuple_Check(defaults.ptr()) || !PyDict_Check(kwdefaults.ptr()))
          throw nb::type_error("conversion: `general` must be a Python function with defaults and keyword-only defaults");
        PyObject* obj = PyType_GenericAlloc(reinterpret_cast<PyTypeObject*>(type.ptr()), 0);
        if (!obj) throw nb::python_error();
        auto* self = reinterpret_cast<conversion_object*>(obj);
        self->vectorcall = conversion_call;
        self->shortcuts = Py_NewRef(shortcuts.ptr());
        self->learn = Py_NewRef(learn.ptr());
        self->general = Py_NewRef(general.ptr());
        self->defaults = defaults.release().ptr();
        self->kwdefaults = kwdefaults.release().ptr();
        return nb::steal(obj);
      },
      nb::arg("shortcuts"), nb::arg("learn"), nb::arg("general"),
      "A callable that hands the source of a call with nothing else (arguments that are `general`'s defaults "
      "themselves aside) to `shortcuts[type(x)]` (learnt through `learn(type)` once per type; None: no shortcut) "
      "and returns its result unless that is None or it raised; any other call, and every such source, goes to "
      "`general(*args, **kwargs)`.");
}

}  // namespace tb::python
