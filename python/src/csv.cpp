// Binds the CSV reader and tb::table (tensorbridge/csv.hpp, tensorbridge/table.hpp). No logic:
// Python's tensorbridge/csv.py builds the options and tensorbridge/table.py wraps the table.

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/vector.h>

#include <string_view>
#include <unordered_map>

#include "bindings.hpp"
#include "tensorbridge/io/csv.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

// Option characters travel as one-character strings ("" = none).
std::string char_to_str(char c) { return c == '\0' ? std::string() : std::string(1, c); }
char str_to_char(const std::string& s, const char* what) {
  if (s.size() > 1) fail(error_kind::value, "read_csv: ", what, " must be one character (or None), got \"", s, "\"");
  return s.empty() ? '\0' : s[0];
}

const char* kind_name(column_kind k) {
  switch (k) {
    case column_kind::tensor: return "tensor";
    case column_kind::strings: return "strings";
    case column_kind::categorical: return "categorical";
  }
  return "tensor";
}

// A column's strings as a list of str. Text columns mostly repeat their values (names, categories,
// dates): each distinct value becomes one str that its rows share, as pandas does, which is cheaper
// than one str per row (a look-up costs about half a new str). A column whose first rows are nearly
// all distinct (ids: no value would be shared) stops looking values up; one with a few thousand
// values over many rows (dates) keeps sharing even when its first rows are mostly new values.
nb::list strings_list(const std::vector<std::string>& strings) {
  constexpr std::size_t probe_rows = 4096;
  const auto n = static_cast<Py_ssize_t>(strings.size());
  nb::list out = nb::steal<nb::list>(PyList_New(n));
  if (!out.is_valid()) throw nb::python_error();
  std::unordered_map<std::string_view, PyObject*> made;  // the list holds each one
  bool share = true;
  for (Py_ssize_t i = 0; i < n; ++i) {
    const std::string& s = strings[static_cast<std::size_t>(i)];
    PyObject* str = nullptr;
    if (share) {
      auto [it, fresh] = made.try_emplace(s, nullptr);
      if (fresh) {
        str = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
        it->second = str;
      } else {
        str = it->second;
        Py_INCREF(str);
      }
      share = static_cast<std::size_t>(i) != probe_rows || made.size() <= probe_rows - probe_rows / 16;
    } else {
      str = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
    }
    if (str == nullptr) throw nb::python_error();
    PyList_SET_ITEM(out.ptr(), i, str);
  }
  return out;
}

}  // namespace

void register_csv(nb::module_& m) {
  using release = nb::call_guard<nb::gil_scoped_release>;

  nb::class_<csv_options>(m, "CsvOptions", "tb::csv_options")
      .def(nb::init<>())
      .def_rw("storage", &csv_options::storage)
      .def_ro_static("HEADER_INFER", &csv_options::header_infer)
      .def_ro_static("HEADER_NONE", &csv_options::header_none)
      .def_prop_rw("sep", [](const csv_options& o) { return char_to_str(o.sep); },
                   [](csv_options& o, const std::string& s) { o.sep = str_to_char(s, "sep"); })
      .def_prop_rw("quotechar", [](const csv_options& o) { return char_to_str(o.quotechar); },
                   [](csv_options& o, const std::string& s) { o.quotechar = str_to_char(s, "quotechar"); })
      .def_prop_rw("escapechar", [](const csv_options& o) { return char_to_str(o.escapechar); },
                   [](csv_options& o, const std::string& s) { o.escapechar = str_to_char(s, "escapechar"); })
      .def_prop_rw("comment", [](const csv_options& o) { return char_to_str(o.comment); },
                   [](csv_options& o, const std::string& s) { o.comment = str_to_char(s, "comment"); })
      .def_prop_rw("thousands", [](const csv_options& o) { return char_to_str(o.thousands); },
                   [](csv_options& o, const std::string& s) { o.thousands = str_to_char(s, "thousands"); })
      .def_prop_rw("decimal", [](const csv_options& o) { return char_to_str(o.decimal); },
                   [](csv_options& o, const std::string& s) { o.decimal = str_to_char(s, "decimal"); })
      .def_rw("nrows", &csv_options::nrows)
      .def_rw("doublequote", &csv_options::doublequote)
      .def_rw("header", &csv_options::header)
      .def_rw("names", &csv_options::names)
      .def_rw("usecols", &csv_options::usecols)
      .def_rw("usecols_index", &csv_options::usecols_index)
      .def_rw("skiprows", &csv_options::skiprows)
      .def_rw("na_values", &csv_options::na_values)
      .def_rw("keep_default_na", &csv_options::keep_default_na)
      .def_rw("skip_blank_lines", &csv_options::skip_blank_lines)
      .def_rw("encoding", &csv_options::encoding)
      .def_rw("block_size", &csv_options::block_size)
      .def_rw("compression", &csv_options::compression)
      .def("set_dtype", [](csv_options& o, const std::string& t) { o.dtype = csv_column_type::from_name(t); })
      .def("set_column_dtype",
           [](csv_options& o, const std::string& column, const std::string& t) {
             o.dtypes.emplace_back(column, csv_column_type::from_name(t));
           })
      .def("validate", &csv_options::validate);

  nb::class_<table>(m, "Table", "tb::table: ordered named columns of equal length")
      .def(nb::init<>())
      .def_prop_ro("num_rows", &table::num_rows)
      .def_prop_ro("num_columns", &table::num_columns)
      .def("names", &table::names)
      .def("kind", [](const table& t, std::int64_t i) { return kind_name(t.at(i).kind); })
      .def("values", [](const table& t, std::int64_t i) { return t.at(i).values; })
      .def("strings", [](const table& t, std::int64_t i) { return strings_list(t.at(i).strings); },
           nb::sig("def strings(self, arg: int, /) -> list[str]"))
      .def("valid", [](const table& t, std::int64_t i) { return t.at(i).valid; })
      .def("time_type", [](const table& t, std::int64_t i) { return t.at(i).time_type; })
      .def("add_tensor", [](table& t, const std::string& name, const tensor& values, std::optional<tensor> valid,
                            const std::string& time_type) {
             t.add_column(column{name, column_kind::tensor, values, {}, std::move(valid), time_type});
           }, nb::arg("name"), nb::arg("values"), nb::arg("valid") = nb::none(), nb::arg("time_type") = "")
      .def("add_strings", [](table& t, const std::string& name, std::vector<std::string> strings,
                             std::optional<tensor> valid) {
             t.add_column(column{name, column_kind::strings, tensor(), std::move(strings), std::move(valid)});
           }, nb::arg("name"), nb::arg("strings"), nb::arg("valid") = nb::none())
      .def("add_categorical", [](table& t, const std::string& name, const tensor& codes,
                                 std::vector<std::string> categories, std::optional<tensor> valid) {
             t.add_column(column{name, column_kind::categorical, codes, std::move(categories), std::move(valid)});
           }, nb::arg("name"), nb::arg("codes"), nb::arg("categories"), nb::arg("valid") = nb::none())
      .def("to_tensor",
           [](const table& t, const std::vector<std::string>& columns, std::optional<std::string> d,
              const std::string& rule, bool checked, std::optional<double> fill_value) {
             to_tensor_options o;
             if (d) o.dtype = dtype_from_name(*d);
             o.rule = casting_from_name(rule);
             o.checked = checked;
             o.fill_value = fill_value;
             nb::gil_scoped_release unlocked;
             return t.to_tensor(columns, o);
           },
           nb::arg("columns"), nb::arg("dtype").none(), nb::arg("casting"), nb::arg("checked"),
           nb::arg("fill_value").none())
      .def("select", [](const table& t, const std::vector<std::string>& columns) { return t.select(columns); },
           nb::arg("columns"))
      .def("split_features_labels",
           [](const table& t, const std::vector<std::string>& labels, std::optional<std::string> d,
              std::optional<double> fill_value, const std::string& where) {
             to_tensor_options o;
             if (d) o.dtype = dtype_from_name(*d);
             o.fill_value = fill_value;
             nb::gil_scoped_release unlocked;
             auto split = split_features_labels(t, labels, o, where);
             return std::make_pair(std::move(split.features), std::move(split.labels));
           },
           nb::arg("labels"), nb::arg("dtype").none(), nb::arg("fill_value").none(), nb::arg("where"))
      .def("common_dtype", [](const table& t, const std::vector<std::string>& columns,
                              std::optional<double> fill_value) {
             return std::string(name(t.common_dtype(columns, fill_value)));
           }, nb::arg("columns"), nb::arg("fill_value").none());

  m.def("read_csv", &read_csv, nb::arg("path"), nb::arg("options"), release());
  m.def("read_csv_bytes",
        [](nb::bytes text, const csv_options& o) {
          const std::string_view view(text.c_str(), text.size());
          nb::gil_scoped_release unlocked;
          return read_csv_string(view, o);
        },
        nb::arg("text"), nb::arg("options"));
  m.def("read_csv_tensor",
        [](const std::string& path, const std::string& d, const csv_options& o) {
          const dtype target = dtype_from_name(d);
          nb::gil_scoped_release unlocked;
          return read_csv_tensor(path, target, o);
        },
        nb::arg("path"), nb::arg("dtype"), nb::arg("options"));

  m.def("read_csv_tensor_bytes",
        [](nb::bytes text, const std::string& d, const csv_options& o) {
          const std::string_view view(text.c_str(), text.size());
          const dtype target = dtype_from_name(d);
          nb::gil_scoped_release unlocked;
          return read_csv_tensor_string(view, target, o);
        },
        nb::arg("text"), nb::arg("dtype"), nb::arg("options"));

  nb::class_<csv_batch_reader>(m, "CsvBatchReader", "tb::csv_batch_reader")
      .def(nb::init<const std::string&, std::int64_t, const csv_options&>(), nb::arg("path"), nb::arg("rows"),
           nb::arg("options"), release())
      .def_static("from_bytes",
                  [](nb::bytes text, std::int64_t rows, const csv_options& o) {
                    std::string copy(text.c_str(), text.size());
                    nb::gil_scoped_release unlocked;
                    return csv_batch_reader::from_string(std::move(copy), rows, o);
                  },
                  nb::arg("text"), nb::arg("rows"), nb::arg("options"))
      .def("next", &csv_batch_reader::next, release())
      .def("names", &csv_batch_reader::names);
}

}  // namespace tb::python
