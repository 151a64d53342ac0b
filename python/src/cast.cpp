// Binds the cast kernels, casting rules, the thread budget, the block cache and the kernel-target switch.

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <tuple>

#include "bindings.hpp"
#include "tensorbridge/core/block_cache.hpp"
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/threads.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

cast_options options_of(const std::string& casting, bool checked) {
  cast_options o;
  o.rule = casting_from_name(casting);
  o.checked = checked;
  return o;
}

}  // namespace

void register_cast(nb::module_& m) {
  m.def(
      "cast",
      [](const tensor& src, const std::string& to, const std::string& casting, bool checked) {
        cast_options o = options_of(casting, checked);
        dtype d = dtype_from_name(to);
        nb::gil_scoped_release unlocked;
        return tb::cast(src, d, o);
      },
      nb::arg("src"), nb::arg("dtype"), nb::arg("casting"), nb::arg("checked"));
  m.def(
      "cast_into",
      [](const tensor& src, const tensor& dst, const std::string& casting, bool checked) {
        cast_options o = options_of(casting, checked);
        nb::gil_scoped_release unlocked;
        tb::cast_into(src, dst, o);
      },
      nb::arg("src"), nb::arg("dst"), nb::arg("casting"), nb::arg("checked"));
  m.def(
      "can_cast",
      [](const std::string& from, const std::string& to, const std::string& casting) {
        return tb::can_cast(dtype_from_name(from), dtype_from_name(to), casting_from_name(casting));
      },
      nb::arg("from_dtype"), nb::arg("to_dtype"), nb::arg("casting"));
  m.def("casting_names", [] {
    std::vector<std::string> out;
    for (casting c : {casting::no, casting::equiv, casting::safe, casting::same_kind, casting::unsafe})
      out.emplace_back(to_string(c));
    return out;
  });
  m.def("block_cache_limit", &tb::block_cache_limit);
  m.def("set_block_cache_limit", &tb::set_block_cache_limit, nb::arg("nbytes"));
  m.def("clear_block_cache", &tb::clear_block_cache);
  m.def("block_cache_statistics", [] {
    const tb::block_cache_stats s = tb::block_cache_statistics();
    return std::make_tuple(s.limit, s.cached_bytes, s.cached_blocks, s.hits, s.misses);
  });
  m.def("num_threads", &tb::num_threads);
  m.def("set_num_threads", &tb::set_num_threads, nb::arg("n"));
  m.def("cast_targets", [] {
    std::vector<std::string> out;
    for (auto t : detail::available_cast_targets()) out.emplace_back(detail::to_string(t));
    return out;
  });
  m.def("active_cast_target", [] { return std::string(detail::to_string(detail::active_cast_target())); });
  m.def("set_cast_target", [](const std::string& n) { detail::set_cast_target(detail::cast_target_from_name(n)); });
}

}  // namespace tb::python
