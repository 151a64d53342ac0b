// Binds the Arrow C Data Interface (tensorbridge/interop/arrow.hpp, tensorbridge/io/arrow_table.hpp)
// through Arrow's PyCapsule protocol: capsules named "arrow_schema", "arrow_array" and
// "arrow_array_stream". Translation only: a consumed capsule's struct is moved into C++ (its
// release set to null, as the protocol asks), an exported one is freed by the capsule if unused.

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "tensorbridge/interop/arrow.hpp"
#include "tensorbridge/io/arrow_table.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

constexpr const char* schema_name = "arrow_schema";
constexpr const char* array_name = "arrow_array";
constexpr const char* stream_name = "arrow_array_stream";

template <class T>
T* capsule_pointer(nb::handle capsule, const char* name) {
  if (!PyCapsule_IsValid(capsule.ptr(), name))
    fail(error_kind::type, "expected a PyCapsule named \"", name, "\" (Arrow's PyCapsule protocol), got ",
         nb::str(nb::handle(Py_TYPE(capsule.ptr()))).c_str());
  auto* p = static_cast<T*>(PyCapsule_GetPointer(capsule.ptr(), name));
  if (!p || !p->release) fail(error_kind::value, "the \"", name, "\" capsule was already consumed (its release is null)");
  return p;
}

template <class T>
void delete_capsule(PyObject* capsule, const char* name) {
  auto* p = static_cast<T*>(PyCapsule_GetPointer(capsule, name));
  if (!p) return;
  if (p->release) p->release(p);
  delete p;
}
void delete_schema(PyObject* c) { delete_capsule<arrow_schema>(c, schema_name); }
void delete_array(PyObject* c) { delete_capsule<arrow_array>(c, array_name); }
void delete_stream(PyObject* c) { delete_capsule<arrow_array_stream>(c, stream_name); }

nb::tuple to_capsules(arrow_schema s, arrow_array a) {
  auto* sp = new arrow_schema(s);
  auto* ap = new arrow_array(a);
  return nb::make_tuple(nb::steal(PyCapsule_New(sp, schema_name, delete_schema)),
                        nb::steal(PyCapsule_New(ap, array_name, delete_array)));
}

arrow_import_options options_of(std::optional<double> fill_value, bool read_only) {
  arrow_import_options o;
  o.fill_value = fill_value;
  o.read_only = read_only;
  return o;
}

const char* kind_name(arrow_column_kind k) {
  switch (k) {
    case arrow_column_kind::strings: return "strings";
    case arrow_column_kind::dictionary: return "categorical";
    default: return "tensor";
  }
}

}  // namespace

void register_arrow(nb::module_& m) {
  nb::class_<arrow_column>(m, "ArrowColumn", "tb::arrow_column: one imported Arrow column")
      .def_ro("name", &arrow_column::name)
      .def_prop_ro("kind", [](const arrow_column& c) { return std::string(kind_name(c.kind)); })
      .def_ro("values", &arrow_column::values)
      .def_ro("strings", &arrow_column::strings)
      .def_ro("valid", &arrow_column::valid)
      .def_ro("time_type", &arrow_column::time_type)
      .def_ro("timezone", &arrow_column::timezone);

  // One call for any array (the O(1) path of tb.from_arrow): a record batch gives a Table, any
  // other array one ArrowColumn.
  m.def(
      "arrow_import_array",
      [](nb::handle schema, nb::handle array, std::optional<double> fill_value, bool read_only) -> nb::object {
        auto* s = capsule_pointer<arrow_schema>(schema, schema_name);
        auto* a = capsule_pointer<arrow_array>(array, array_name);
        const arrow_import_options options = options_of(fill_value, read_only);
        if (is_record_batch(*s)) {
          table t;
          {
            nb::gil_scoped_release unlocked;
            t = table_from_arrow(s, a, options);
          }
          return nb::cast(std::move(t));
        }
        arrow_column c;
        {
          nb::gil_scoped_release unlocked;
          c = import_arrow(s, a, options);
        }
        return nb::cast(std::move(c));
      },
      nb::arg("schema"), nb::arg("array"), nb::arg("fill_value").none(), nb::arg("read_only"));
  m.def(
      "arrow_import_stream",
      [](nb::handle stream, std::optional<double> fill_value, bool read_only) {
        auto* st = capsule_pointer<arrow_array_stream>(stream, stream_name);
        bool record_batches = false;
        std::vector<arrow_column> columns;
        {
          nb::gil_scoped_release unlocked;  // the producer's get_next takes the GIL itself if it needs it
          columns = import_arrow_stream(st, options_of(fill_value, read_only), &record_batches);
        }
        return nb::make_tuple(std::move(columns), record_batches);
      },
      nb::arg("stream"), nb::arg("fill_value").none(), nb::arg("read_only"));
  m.def(
      "arrow_import_batches",
      [](nb::handle stream, bool read_only) {
        auto* st = capsule_pointer<arrow_array_stream>(stream, stream_name);
        nb::gil_scoped_release unlocked;
        return import_arrow_batches(st, options_of(std::nullopt, read_only));
      },
      nb::arg("stream"), nb::arg("read_only"));
  m.def("map_file", &map_file, nb::arg("path"), nb::call_guard<nb::gil_scoped_release>());
  m.def("rebase_tensor", [](const tensor& t, const tensor& mapped) { return rebase_onto(t, mapped); });
  m.def("rebase_table", [](const table& t, const tensor& mapped) { return rebase_onto(t, mapped); });
  m.def("arrow_table_of_columns", [](std::vector<arrow_column> columns) { return table_from_arrow(std::move(columns)); });
  m.def(
      "arrow_export_tensor",
      [](const tensor& t, const std::string& name) {
        arrow_schema s{};
        arrow_array a{};
        {
          nb::gil_scoped_release unlocked;
          export_arrow(t, &s, &a, name);
        }
        return to_capsules(s, a);
      },
      nb::arg("tensor"), nb::arg("name") = "");
  m.def("arrow_export_table", [](const table& t) {
    arrow_schema s{};
    arrow_array a{};
    {
      nb::gil_scoped_release unlocked;
      table_to_arrow(t, &s, &a);
    }
    return to_capsules(s, a);
  });
  m.def("arrow_export_table_stream", [](const table& t) {
    auto* st = new arrow_array_stream{};
    table_to_arrow_stream(t, st);
    return nb::steal(PyCapsule_New(st, stream_name, delete_stream));
  });
}

}  // namespace tb::python
