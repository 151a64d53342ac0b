// Binds the .npy/.npz readers and writers and records-to-columns (tensorbridge/npy.hpp,
// tensorbridge/structured.hpp). No logic: Python's tensorbridge/io.py builds the options.

#include <nanobind/nanobind.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "tensorbridge/io/file.hpp"
#include "tensorbridge/io/npy.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

// (columns, archive or None, end) of a tb::npy_or_npz; the archive moves into its Python object.
nb::tuple to_python(npy_or_npz r) {
  nb::object archive = r.archive ? nb::cast(std::move(*r.archive), nb::rv_policy::move) : nb::none();
  return nb::make_tuple(nb::cast(std::move(r.columns), nb::rv_policy::move), archive, r.end);
}

// A Python callable taking bytes as a byte_sink; called with the GIL held.
byte_sink python_sink(const nb::callable& write) {
  return [&write](std::span<const std::byte> bytes) {
    write(nb::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  };
}

}  // namespace

void register_io(nb::module_& m) {
  using release = nb::call_guard<nb::gil_scoped_release>;

  nb::class_<npy_load_options>(m, "NpyLoadOptions", "tb::npy_load_options")
      .def(nb::init<>())
      .def_rw("mmap", &npy_load_options::mmap)
      .def_rw("copy_on_write", &npy_load_options::copy_on_write)
      .def_rw("keep_byte_order", &npy_load_options::keep_byte_order)
      .def_rw("void2_as_bfloat16", &npy_load_options::void2_as_bfloat16)
      .def_rw("max_header_size", &npy_load_options::max_header_size)
      .def_rw("verify_crc", &npy_load_options::verify_crc)
      .def_rw("storage", &npy_load_options::storage)
      .def("validate", &npy_load_options::validate);

  nb::class_<npy_save_options>(m, "NpySaveOptions", "tb::npy_save_options")
      .def(nb::init<>())
      .def_rw("version", &npy_save_options::version)
      .def_rw("storage", &npy_save_options::storage)
      .def("validate", &npy_save_options::validate);

  nb::class_<npz_save_options>(m, "NpzSaveOptions", "tb::npz_save_options")
      .def(nb::init<>())
      .def_rw("compress", &npz_save_options::compress)
      .def_rw("compression_level", &npz_save_options::compression_level)
      .def_rw("storage", &npz_save_options::storage)
      .def("validate", &npz_save_options::validate);

  nb::class_<record_field>(m, "RecordField", "tb::record_field")
      .def(nb::init<>())
      .def_rw("name", &record_field::name)
      .def_prop_rw(
          "dtype", [](const record_field& f) { return std::string(name(f.dtype)); },
          [](record_field& f, const std::string& d) { f.dtype = dtype_from_name(d); })
      .def_rw("offset", &record_field::offset)
      .def_rw("subshape", &record_field::subshape)
      .def_rw("byteswapped", &record_field::byteswapped);

  nb::class_<named_column>(m, "NamedColumn", "tb::named_column")
      .def_ro("name", &named_column::name)
      .def_ro("values", &named_column::values)
      .def_ro("copy_reason", &named_column::copy_reason);

  nb::class_<npy_header>(m, "NpyHeader", "tb::npy_header")
      .def_ro("major_version", &npy_header::major_version)
      .def_ro("minor_version", &npy_header::minor_version)
      .def_ro("descr", &npy_header::descr)
      .def_prop_ro("dtype", [](const npy_header& h) { return std::string(name(h.dtype)); })
      .def_ro("byteswapped", &npy_header::byteswapped)
      .def_ro("fortran_order", &npy_header::fortran_order)
      .def_ro("shape", &npy_header::shape)
      .def_ro("fields", &npy_header::fields)
      .def_ro("record_size", &npy_header::record_size)
      .def_ro("data_offset", &npy_header::data_offset)
      .def_ro("data_nbytes", &npy_header::data_nbytes)
      .def("is_structured", &npy_header::is_structured);

  nb::class_<npz_member>(m, "NpzMember", "tb::npz_member")
      .def_ro("key", &npz_member::key)
      .def_ro("member_name", &npz_member::member_name)
      .def_ro("compressed", &npz_member::compressed)
      .def_ro("compressed_size", &npz_member::compressed_size)
      .def_ro("uncompressed_size", &npz_member::uncompressed_size);

  nb::class_<npz_reader>(m, "NpzReader", "tb::npz_reader")
      .def(nb::init<const std::string&, const npy_load_options&>(), release())
      .def_prop_ro("path", &npz_reader::path)
      .def("keys", &npz_reader::keys)
      .def("members", &npz_reader::members)
      .def("contains", &npz_reader::contains)
      .def("header", &npz_reader::header, release())
      .def("load", &npz_reader::load, release())
      .def("load_columns", &npz_reader::load_columns, release())
      .def("close", &npz_reader::close);

  m.def("load_npy_or_npz", [](const std::string& path, const npy_load_options& options) {
    npy_or_npz r;
    {
      nb::gil_scoped_release unlocked;
      r = load_npy_or_npz(path, options);
    }
    return to_python(std::move(r));
  });
  m.def("load_npy_or_npz_bytes", [](nb::bytes data, const std::string& name, const npy_load_options& options) {
    npy_or_npz r;
    {
      const auto bytes = std::as_bytes(std::span<const char>(data.c_str(), data.size()));
      nb::gil_scoped_release unlocked;
      r = load_npy_or_npz_bytes(bytes, name, options);
    }
    return to_python(std::move(r));
  });
  m.def("save_npy_to", [](const nb::callable& write, const tensor& t, const npy_save_options& options) {
    save_npy_to(python_sink(write), t, options);
  });
  m.def("save_npz_to", [](const nb::callable& write, const std::vector<std::pair<std::string, tensor>>& arrays,
                          const npz_save_options& options) { save_npz_to(python_sink(write), arrays, options); });
  nb::class_<atomic_writer>(m, "AtomicWriter", "tb::atomic_writer")
      .def(nb::init<const std::string&>(), release())
      .def("write",
           [](atomic_writer& w, nb::bytes data) {
             const auto bytes = std::as_bytes(std::span<const char>(data.c_str(), data.size()));
             nb::gil_scoped_release unlocked;
             w.write(bytes);
           })
      .def("commit", &atomic_writer::commit, release())
      .def("discard", &atomic_writer::discard);

  auto kind_name = [](array_file_kind kind) {
    switch (kind) {
      case array_file_kind::npy: return "npy";
      case array_file_kind::npz: return "npz";
      case array_file_kind::other: break;
    }
    return "other";
  };
  m.def(
      "detect_array_file", [kind_name](const std::string& path) { return kind_name(detect_array_file(path)); },
      nb::arg("path"), release());
  m.def(
      "detect_array_head",
      [kind_name](nb::bytes head) {
        return kind_name(detect_array_file(
            std::span<const std::byte>(reinterpret_cast<const std::byte*>(head.c_str()), head.size())));
      },
      nb::arg("head"));
  m.def("read_npy_header", &read_npy_header, release());
  m.def("load_npy", &load_npy, release());
  m.def("load_npy_columns", &load_npy_columns, release());
  m.def("save_npy", &save_npy, release());
  m.def(
      "save_npz",
      [](const std::string& path, const std::vector<std::pair<std::string, tensor>>& arrays,
         const npz_save_options& options) { save_npz(path, arrays, options); },
      release());
  m.def(
      "columns_from_records",
      [](const tensor& records, const std::vector<record_field>& fields) { return columns_from_records(records, fields); },
      release());
}

}  // namespace tb::python
