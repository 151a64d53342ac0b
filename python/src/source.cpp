// Object storage: the storage options struct and listing (the logic is in tb's byte sources).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "tensorbridge/io/source.hpp"

namespace nb = nanobind;

namespace tb::python {

void register_source(nb::module_& m) {
  nb::class_<storage_options>(m, "StorageOptions", "tb::storage_options")
      .def(nb::init<>())
      .def_rw("key", &storage_options::key)
      .def_rw("secret", &storage_options::secret)
      .def_rw("token", &storage_options::token)
      .def_rw("endpoint_url", &storage_options::endpoint_url)
      .def_rw("region", &storage_options::region)
      .def_rw("profile", &storage_options::profile)
      .def_rw("anon", &storage_options::anon)
      .def_rw("addressing_style", &storage_options::addressing_style)
      .def_rw("credentials_source", &storage_options::credentials_source)
      .def_rw("part_size", &storage_options::part_size)
      .def_rw("concurrency", &storage_options::concurrency)
      .def_rw("multipart_threshold", &storage_options::multipart_threshold)
      .def_rw("max_retries", &storage_options::max_retries)
      .def_rw("retry_max_seconds", &storage_options::retry_max_seconds)
      .def_rw("retry_base_seconds", &storage_options::retry_base_seconds)
      .def_rw("connect_timeout_seconds", &storage_options::connect_timeout_seconds)
      .def_rw("low_speed_seconds", &storage_options::low_speed_seconds)
      .def_rw("cache_dir", &storage_options::cache_dir)
      .def("validate", &storage_options::validate)
      .def("__repr__", [](const storage_options& o) {
        // Never the secret or the token.
        return "StorageOptions(key=" + (o.key ? "'" + *o.key + "'" : std::string("None")) +
               ", secret=" + (o.secret ? "'***'" : "None") + ", token=" + (o.token ? "'***'" : "None") +
               ", endpoint_url=" + o.endpoint_url.value_or("None") + ", region=" + o.region.value_or("None") +
               ", anon=" + (o.anon ? "True" : "False") + ")";
      });
  m.def("is_remote_path", &is_remote_path);
  m.def(
      "credentials_source", [](const storage_options& o) { return resolve_s3_config(o).credentials_source; },
      "Where resolve_s3_config finds credentials for `o` (\"none\" when nowhere).");
  m.def(
      "list_objects",
      [](const std::string& prefix, const storage_options& o) {
        std::vector<object_info> found;
        {
          nb::gil_scoped_release unlocked;
          found = list_objects(prefix, o);
        }
        std::vector<std::tuple<std::string, std::uint64_t, std::string>> out;
        out.reserve(found.size());
        for (auto& f : found) out.emplace_back(std::move(f.path), f.size, std::move(f.etag));
        return out;
      },
      nb::arg("prefix"), nb::arg("options"));
  m.def(
      "read_object",
      [](const std::string& path, const storage_options& o) {
        std::string bytes;
        {
          nb::gil_scoped_release unlocked;
          auto source = open_source(path, o);
          bytes.resize(static_cast<std::size_t>(source->size()));
          source->read_at(bytes.data(), bytes.size(), 0);
        }
        return nb::bytes(bytes.data(), bytes.size());
      },
      nb::arg("path"), nb::arg("options"), "The whole object (or file) at `path`, as bytes.");
  m.def(
      "read_object_head",
      [](const std::string& path, std::size_t n, const storage_options& o) {
        std::string bytes;
        {
          nb::gil_scoped_release unlocked;
          auto source = open_source(path, o);
          bytes.resize(static_cast<std::size_t>(std::min<std::uint64_t>(n, source->size())));
          source->read_at(bytes.data(), bytes.size(), 0);
        }
        return nb::bytes(bytes.data(), bytes.size());
      },
      nb::arg("path"), nb::arg("n"), nb::arg("options"), "The first `n` bytes (or fewer) of `path`.");
  m.def(
      "object_size",
      [](const std::string& path, const storage_options& o) {
        nb::gil_scoped_release unlocked;
        return open_source(path, o)->size();
      },
      nb::arg("path"), nb::arg("options"), "The size of the object (or file) at `path`.");
}

}  // namespace tb::python
