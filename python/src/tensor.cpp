// Binds tb::tensor, DLPack capsules, buffer-protocol import and export planning.

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "tensorbridge/interop/dlpack.hpp"
#include "tensorbridge/interop/plan.hpp"
#include "tensorbridge/core/tensor.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

constexpr const char* versioned_name = "dltensor_versioned";
constexpr const char* legacy_name = "dltensor";

nb::tuple to_tuple(const shape_t& v) {
  PyObject* t = PyTuple_New(static_cast<Py_ssize_t>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) PyTuple_SET_ITEM(t, i, PyLong_FromLongLong(v[i]));
  return nb::steal<nb::tuple>(t);
}

// A capsule nobody consumed still owns its managed tensor; a consumer renames it "used_...".
void delete_versioned_capsule(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, versioned_name)) {
    auto* m = static_cast<dlpack_managed_tensor_versioned*>(PyCapsule_GetPointer(capsule, versioned_name));
    if (m && m->deleter) m->deleter(m);
  }
}
void delete_legacy_capsule(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, legacy_name)) {
    auto* m = static_cast<dlpack_managed_tensor*>(PyCapsule_GetPointer(capsule, legacy_name));
    if (m && m->deleter) m->deleter(m);
  }
}

// `copy` has the array API's meaning: None (copy only what is needed), True, False.
nb::object to_capsule(const tensor& t, bool versioned, std::optional<bool> copy, bool consumer_respects_read_only,
                      bool is_copied, std::optional<std::pair<int, int>> dl_device) {
  dlpack_export_options options;
  if (dl_device) options.device = device{static_cast<device_type>(dl_device->first), dl_device->second};
  options.consumer_respects_read_only = consumer_respects_read_only;
  options.copy = copy.value_or(false);
  options.allow_copy = copy.value_or(true);
  options.is_copied = is_copied;
  if (versioned) {
    dlpack_managed_tensor_versioned* m;
    {
      nb::gil_scoped_release unlocked;  // a copy of a large tensor may be made
      m = to_dlpack_versioned(t, options);
    }
    return nb::steal(PyCapsule_New(m, versioned_name, delete_versioned_capsule));
  }
  dlpack_managed_tensor* m;
  {
    nb::gil_scoped_release unlocked;
    m = to_dlpack_legacy(t, options);
  }
  return nb::steal(PyCapsule_New(m, legacy_name, delete_legacy_capsule));
}

tensor from_capsule(nb::handle capsule) {
  PyObject* c = capsule.ptr();
  if (PyCapsule_IsValid(c, versioned_name)) {
    auto* m = static_cast<dlpack_managed_tensor_versioned*>(PyCapsule_GetPointer(c, versioned_name));
    PyCapsule_SetName(c, "used_dltensor_versioned");
    return from_dlpack(m);
  }
  if (PyCapsule_IsValid(c, legacy_name)) {
    auto* m = static_cast<dlpack_managed_tensor*>(PyCapsule_GetPointer(c, legacy_name));
    PyCapsule_SetName(c, "used_dltensor");
    return from_dlpack(m);
  }
  fail(error_kind::type, "expected a DLPack capsule named \"dltensor_versioned\" or \"dltensor\" (unused); got ",
       nb::str(nb::handle(Py_TYPE(c))).c_str(), " (a capsule can be consumed only once)");
}

struct held_buffer {
  Py_buffer view;
};

// The Py_buffer as a tb::buffer_view (without a release), or the reason it has no tensorbridge dtype.
buffer_view describe_buffer(const Py_buffer& v, std::string* unsupported) {
  buffer_view bv;
  bool swapped = false;
  const char* format = v.format ? v.format : "B";
  auto dtype = dtype_from_buffer_format(format, static_cast<std::size_t>(v.itemsize), &swapped);
  if (!dtype) {
    *unsupported = detail::cat("unsupported element format \"", format, "\" (", v.itemsize,
                               " bytes) in the buffer; tensorbridge reads bool, integers, float16/32/64 and "
                               "complex64/128 (not strings, objects, long double or records)");
    return bv;
  }
  bv.data = v.buf;
  bv.dtype = *dtype;
  bv.read_only = v.readonly != 0;
  bv.byteswapped = swapped;
  bv.shape.assign(v.shape, v.shape + v.ndim);
  if (v.strides) {
    bv.byte_strides.assign(v.strides, v.strides + v.ndim);
  } else {
    bv.byte_strides.resize(v.ndim);
    std::int64_t step = v.itemsize;
    for (int i = v.ndim; i-- > 0;) {
      bv.byte_strides[i] = step;
      step *= v.shape[i];
    }
  }
  return bv;
}

nb::tuple from_buffer(nb::handle obj, bool allow_copy) {
  auto* held = new held_buffer{};
  if (PyObject_GetBuffer(obj.ptr(), &held->view, PyBUF_RECORDS_RO) != 0) {
    delete held;
    throw nb::python_error();
  }
  auto release = [held] {
    nb::gil_scoped_acquire gil;
    PyBuffer_Release(&held->view);
    delete held;
  };
  std::string unsupported;
  buffer_view bv = describe_buffer(held->view, &unsupported);
  if (!unsupported.empty()) {
    release();
    throw error(error_kind::type, unsupported);
  }
  bv.release = release;
  import_result r = import_buffer(std::move(bv), allow_copy);
  return nb::make_tuple(std::move(r.value), std::move(r.copy_reason));
}

copy_mode to_copy_mode(std::optional<bool> copy) {
  if (!copy) return copy_mode::if_needed;
  return *copy ? copy_mode::always : copy_mode::never;
}

}  // namespace

void register_tensor(nb::module_& m) {
  // A dtype crosses into C++ once, as this enum, from tensorbridge._dtypes.dtype_of.
  nb::enum_<dtype> dtypes(m, "DType", "A tensorbridge dtype (the C++ tb::dtype); .name is its canonical name.");
  for (const auto& row : all_dtypes()) dtypes.value(row.name.data(), row.dtype);

  nb::class_<tensor>(m, "Tensor", "A strided view over reference-counted memory (the C++ tb::tensor).")
      .def_prop_ro("shape", [](const tensor& t) { return to_tuple(t.shape()); })
      .def_prop_ro("strides", [](const tensor& t) { return to_tuple(t.strides()); })
      .def_prop_ro("dtype", [](const tensor& t) { return std::string(name(t.dtype())); })
      .def_prop_ro("ndim", &tensor::ndim)
      .def_prop_ro("size", &tensor::numel)
      .def_prop_ro("nbytes", &tensor::nbytes)
      .def_prop_ro("itemsize", &tensor::itemsize)
      .def_prop_ro("read_only", &tensor::read_only)
      .def_prop_ro("data_ptr", [](const tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data()); })
      .def_prop_ro("device",
                   [](const tensor& t) { return nb::make_tuple(static_cast<int>(t.device().type), t.device().index); })
      .def_prop_ro("device_name", [](const tensor& t) { return to_string(t.device()); })
      .def_prop_ro("storage_owned", [](const tensor& t) { return t.storage()->owned(); })
      .def("is_contiguous", &tensor::is_contiguous)
      .def("is_aligned", &tensor::is_aligned, nb::arg("alignment") = buffer_alignment)
      .def("contiguous", &tensor::contiguous, nb::call_guard<nb::gil_scoped_release>())
      .def("copy", &tensor::copy, nb::call_guard<nb::gil_scoped_release>())
      .def("as_read_only", &tensor::as_read_only)
      .def("transpose", &tensor::transpose)
      .def("permute", [](const tensor& t, const std::vector<std::int64_t>& axes) { return t.permute(axes); })
      .def("slice", &tensor::slice, nb::arg("begin"), nb::arg("end"), nb::arg("step") = 1)
      .def("reshape", &tensor::reshape)
      .def("view", [](const tensor& t, const std::string& d) { return t.view(dtype_from_name(d)); })
      .def("describe", &tensor::describe)
      .def("__repr__", &tensor::describe);

  m.def("empty", [](const shape_t& shape, const std::string& d) { return tensor::empty(shape, dtype_from_name(d)); });
  m.def("to_capsule", &to_capsule, nb::arg("tensor"), nb::arg("versioned"), nb::arg("copy").none() = nb::none(),
        nb::arg("consumer_respects_read_only") = false, nb::arg("is_copied") = false,
        nb::arg("dl_device").none() = nb::none());
  m.def("from_capsule", &from_capsule);
  m.def("from_buffer", &from_buffer, nb::arg("obj"), nb::arg("allow_copy") = true);
  m.def("live_storages", &storage::live_count);
  m.def("dtype_names", [] {
    std::vector<std::string> names;
    for (const auto& row : all_dtypes()) names.emplace_back(row.name);
    return names;
  });
  m.def("canonical_dtype", [](const std::string& n) { return std::string(name(dtype_from_name(n))); });
  m.def("parse_dtype", [](const std::string& n) { return dtype_from_name(n); },
        "The dtype named `n` (any spelling: \"float32\", \"half\", \"bf16\"...).");
  m.def("canonical_device", [](const std::string& n) { return to_string(device_from_name(n)); });

  nb::class_<consumer_limits>(m, "ConsumerLimits", "What a consumer can alias without a copy.")
      .def(nb::init<>())
      .def_rw("name", &consumer_limits::name)
      .def_rw("strided", &consumer_limits::strided)
      .def_rw("negative_strides", &consumer_limits::negative_strides)
      .def_rw("overlapping", &consumer_limits::overlapping)
      .def_rw("read_only", &consumer_limits::read_only)
      .def_rw("immutable", &consumer_limits::immutable)
      .def_rw("alignment", &consumer_limits::alignment)
      .def_rw("max_ndim", &consumer_limits::max_ndim)
      .def("exclude", [](consumer_limits& c, const std::string& d) { c.dtypes = c.dtypes.without(dtype_from_name(d)); })
      .def("accepts", [](const consumer_limits& c, const std::string& d) { return c.dtypes.contains(dtype_from_name(d)); });

  nb::class_<export_plan>(m, "Plan", "How one export will be done, decided without touching the data.")
      .def_ro("zero_copy", &export_plan::zero_copy)
      .def_ro("reasons", &export_plan::reasons)
      .def_ro("bytes_to_copy", &export_plan::bytes_to_copy)
      .def_ro("lossy", &export_plan::lossy)
      .def_ro("read_only", &export_plan::read_only)
      .def_ro("private_map", &export_plan::private_map)
      .def_ro("notes", &export_plan::notes)
      .def_ro("checked", &export_plan::checked)
      .def_ro("error", &export_plan::error)
      .def_prop_ro("error_kind", [](const export_plan& p) { return std::string(to_string(p.error_kind)); })
      .def_prop_ro("from_dtype", [](const export_plan& p) { return std::string(name(p.from)); })
      .def_prop_ro("to_dtype", [](const export_plan& p) { return std::string(name(p.to)); })
      .def("summary", &export_plan::summary);

  m.def(
      "plan_export",
      [](const tensor& t, const consumer_limits& limits, std::optional<dtype> dtype, std::optional<bool> copy,
         const std::string& rule, const std::string& device, bool checked, bool weak_values) {
        export_request req;
        req.consumer = limits;
        req.dtype = dtype;
        req.copy = to_copy_mode(copy);
        req.rule = casting_from_name(rule);
        req.device = device_from_name(device);
        req.checked = checked;
        req.weak_values = weak_values;
        return plan_export(t, req);
      },
      nb::arg("tensor"), nb::arg("limits"), nb::arg("dtype").none(), nb::arg("copy").none(), nb::arg("casting"),
      nb::arg("device"), nb::arg("checked"), nb::arg("weak_values") = false);
  m.def("execute", &execute, nb::call_guard<nb::gil_scoped_release>());
}

}  // namespace tb::python
