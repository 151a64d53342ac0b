// Binds the frameworks' zero-copy shortcuts for NumPy arrays: the array is described in place
// from NumPy's own struct (no buffer export, no tensor) and the planner decides.

#include <array>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>

#include <nanobind/nanobind.h>

#include "bindings.hpp"
#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/interop/plan.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

// NumPy's array and dtype structs, as far as NumPy publishes them as one ABI for 1.x and 2.x
// (numpy/ndarraytypes.h: `PyArrayObject_fields`, and the "1.x and 2.x compatible" `PyArray_Descr`).
struct numpy_descr {
  PyObject_HEAD
  PyTypeObject* typeobj;
  char kind;
  char type;
  char byteorder;  // '<', '>', '|' (not applicable) or '=' (native)
  char former_flags;
  int type_num;
};
struct numpy_array {
  PyObject_HEAD
  char* data;
  int nd;
  std::intptr_t* dimensions;
  std::intptr_t* strides;  // bytes
  PyObject* base;
  numpy_descr* descr;
  int flags;
};
constexpr int numpy_writeable = 0x0400;  // NPY_ARRAY_WRITEABLE
constexpr int numpy_max_ndim = 64;       // NPY_MAXDIMS (32 before NumPy 2)

// The dtype of NumPy's built-in type number `type_num` (NPY_TYPES, stable since NumPy 1.6), if
// tensorbridge has it.
std::optional<dtype> dtype_of_type_num(int type_num) {
  constexpr bool long_is_64 = sizeof(long) == 8;
  switch (type_num) {
    case 0: return dtype::bool_;    // NPY_BOOL
    case 1: return dtype::int8;     // NPY_BYTE
    case 2: return dtype::uint8;    // NPY_UBYTE
    case 3: return dtype::int16;    // NPY_SHORT
    case 4: return dtype::uint16;   // NPY_USHORT
    case 5: return dtype::int32;    // NPY_INT
    case 6: return dtype::uint32;   // NPY_UINT
    case 7: return long_is_64 ? dtype::int64 : dtype::int32;    // NPY_LONG
    case 8: return long_is_64 ? dtype::uint64 : dtype::uint32;  // NPY_ULONG
    case 9: return dtype::int64;    // NPY_LONGLONG
    case 10: return dtype::uint64;  // NPY_ULONGLONG
    case 11: return dtype::float32;    // NPY_FLOAT
    case 12: return dtype::float64;    // NPY_DOUBLE
    case 14: return dtype::complex64;  // NPY_CFLOAT
    case 15: return dtype::complex128; // NPY_CDOUBLE
    case 23: return dtype::float16;    // NPY_HALF
    default: return std::nullopt;      // long double, objects, strings, records, datetimes, user types
  }
}

// Room for the shape and element strides of one NumPy array.
struct ndarray_dims {
  std::array<std::int64_t, numpy_max_ndim> shape, strides;
};

// The NumPy array `obj` (exactly numpy.ndarray) as a layout over `dims`, or none if tensorbridge
// cannot view it as it is: a dtype it lacks, bytes in the other order, strides that are not
// whole elements (those take the general path, which copies and says why).
std::optional<layout_view> describe_ndarray(PyObject* obj, ndarray_dims& dims) {
  const auto* a = reinterpret_cast<const numpy_array*>(obj);
  const auto dtype = dtype_of_type_num(a->descr->type_num);
  constexpr char foreign_order = std::endian::native == std::endian::little ? '>' : '<';
  if (!dtype || a->descr->byteorder == foreign_order || a->nd > numpy_max_ndim) return std::nullopt;
  const auto n = static_cast<std::size_t>(a->nd);
  std::array<std::int64_t, numpy_max_ndim> byte_strides;
  for (std::size_t i = 0; i < n; ++i) {
    dims.shape[i] = a->dimensions[i];
    byte_strides[i] = a->strides[i];
  }
  const std::span<const std::int64_t> shape{dims.shape.data(), n};
  if (element_strides(shape, {byte_strides.data(), n}, *dtype, {dims.strides.data(), n}) >= 0) return std::nullopt;
  return layout_view{*dtype, shape, {dims.strides.data(), n}, a->data, cpu_device, (a->flags & numpy_writeable) == 0};
}

// A function of one NumPy array: `native(array)` (or the array itself when `native` is None) if
// the planner lets a consumer with `limits` alias it as it is, else None.
nb::object ndarray_shortcut(nb::handle ndarray_type, const consumer_limits& limits, nb::object native) {
  if (!PyType_Check(ndarray_type.ptr())) throw nb::type_error("ndarray_shortcut: expected the type numpy.ndarray");
  export_request request;  // no cast, a copy only if needed: the question is "as it is?"
  request.consumer = limits;
  return nb::cpp_function(
      [type = nb::borrow<nb::object>(ndarray_type), request = std::move(request),
       native = std::move(native)](nb::handle array) -> nb::object {
        if (reinterpret_cast<PyObject*>(Py_TYPE(array.ptr())) != type.ptr())
          throw nb::type_error("a tensorbridge shortcut takes only numpy.ndarray itself (not a subclass)");
        ndarray_dims dims;
        const auto layout = describe_ndarray(array.ptr(), dims);
        if (!layout || !plan_export(*layout, request).zero_copy) return nb::none();
        return native.is_none() ? nb::borrow(array) : native(array);
      },
      nb::name("shortcut"));  // no argument name: nanobind's one-argument dispatch is its cheapest
}

}  // namespace

void register_ndarray(nb::module_& m) {
  m.def("ndarray_shortcut", &ndarray_shortcut, nb::arg("ndarray_type"), nb::arg("limits"), nb::arg("native").none(),
        "A function of one NumPy array (exactly `ndarray_type`): `native(array)`, or the array itself when `native` "
        "is None, if `tb::plan_export` lets a consumer with `limits` alias it as it is; else None. The array is "
        "described from NumPy's struct in place (no buffer export): the frameworks' own zero-copy calls "
        "(torch.from_numpy...) cost little, and this must cost less.");
}

}  // namespace tb::python
