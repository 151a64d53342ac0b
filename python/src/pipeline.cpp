// Binds the data pipeline (tb::dataset, its iterator and native map ops). No logic: the GIL is
// released around every call that gathers or waits.

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/variant.h>
#include <nanobind/stl/vector.h>

#include "bindings.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace nb = nanobind;

namespace tb::python {
namespace {

// The batch as a tuple of extension tensors, built directly: this runs once per batch.
nb::object batch_tuple(std::optional<std::vector<tensor>> batch) {
  if (!batch) return nb::none();
  nb::tuple out = nb::steal<nb::tuple>(PyTuple_New(static_cast<Py_ssize_t>(batch->size())));
  for (std::size_t i = 0; i < batch->size(); ++i)
    PyTuple_SET_ITEM(out.ptr(), i, nb::cast(std::move((*batch)[i])).release().ptr());
  return out;
}

}  // namespace

void register_pipeline(nb::module_& m) {
  m.attr("AUTOTUNE") = prefetch_options::autotune;
  const prefetch_options defaults;
  m.attr("PREFETCH_DEFAULTS") = nb::make_tuple(defaults.buffer_size, defaults.num_threads, defaults.block_bytes);
  m.def("draw_seed", &draw_seed);
  nb::class_<iterator_state>(m, "IteratorState", "Where an iteration stands (tb::iterator_state).")
      .def(nb::init<>())
      .def("to_record", &iterator_state::to_record)
      .def_static("from_record", &iterator_state::from_record, nb::arg("record"))
      .def_rw("fingerprint", &iterator_state::fingerprint)
      .def_rw("seed", &iterator_state::seed)
      .def_rw("first_epoch", &iterator_state::first_epoch)
      .def_rw("yielded", &iterator_state::yielded)
      .def_rw("epoch", &iterator_state::epoch)
      .def_rw("cursor", &iterator_state::cursor)
      .def_rw("num_shards", &iterator_state::num_shards)
      .def_rw("shard_index", &iterator_state::shard_index);

  nb::class_<map_op>(m, "MapOp", "A native batch operation (tb::map_op).")
      .def_static("cast", [](const std::string& d) { return map_op::cast(dtype_from_name(d)); })
      .def_static("normalize",
                  [](std::vector<double> mean, std::vector<double> std, const std::string& d) {
                    return map_op::normalize(std::move(mean), std::move(std), dtype_from_name(d));
                  })
      .def_static("one_hot",
                  [](std::int64_t depth, const std::string& d) { return map_op::one_hot(depth, dtype_from_name(d)); })
      .def_static("permute", &map_op::permute)
      .def_static("reshape", &map_op::reshape)
      .def_static("random_flip", &map_op::random_flip)
      .def_prop_ro("is_random", &map_op::is_random)
      .def("validate", &map_op::validate)
      .def(
          "apply",
          [](const map_op& op, const tensor& batch, const std::vector<std::uint64_t>& seeds) {
            return op.apply(batch, seeds);
          },
          nb::arg("batch"), nb::arg("seeds"), nb::call_guard<nb::gil_scoped_release>());

  nb::class_<batch_block>(m, "BatchBlock", "Consecutive batches stored back to back (tb::batch_block).")
      .def_ro("first", &batch_block::first)
      .def_ro("batched", &batch_block::batched)
      .def_ro("fields", &batch_block::fields)
      .def_ro("seeds", &batch_block::seeds)
      .def_prop_ro("sizes", &batch_block::sizes)
      .def("count", &batch_block::count)
      .def("batch", [](const batch_block& b, std::int64_t i) { return batch_tuple(b.batch(i)); });

  nb::class_<dataset_iterator>(m, "DatasetIterator", "A running iteration (tb::dataset_iterator).")
      .def("next",
           [](dataset_iterator& it) {
             std::optional<std::vector<tensor>> batch;
             {
               nb::gil_scoped_release release;
               batch = it.next();
             }
             return batch_tuple(std::move(batch));
           })
      .def("next_block", &dataset_iterator::next_block, nb::call_guard<nb::gil_scoped_release>())
      .def("state", &dataset_iterator::state)
      .def("state_at", &dataset_iterator::state_at)
      .def("remaining", &dataset_iterator::remaining)
      .def("close", &dataset_iterator::close, nb::call_guard<nb::gil_scoped_release>());

  nb::class_<dataset>(m, "Dataset", "A pipeline description (tb::dataset).")
      .def_static(
          "from_tensor_slices",
          [](const std::vector<std::tuple<std::string, tensor, std::vector<tensor>>>& fields) {
            std::vector<dataset_field> f;
            for (const auto& [name, data, continued] : fields) f.push_back({name, data, continued});
            return dataset::from_tensor_slices(std::move(f));
          },
          nb::call_guard<nb::gil_scoped_release>())
      .def(
          "shuffle",
          [](const dataset& d, bool enabled, std::uint64_t seed, bool random_seed, bool reshuffle,
             std::optional<std::int64_t> buffer_size) {
            return d.shuffle({enabled, seed, random_seed, reshuffle, buffer_size});
          },
          nb::arg("enabled"), nb::arg("seed"), nb::arg("random_seed"), nb::arg("reshuffle_each_epoch"),
          nb::arg("buffer_size").none())
      .def(
          "batch",
          [](const dataset& d, std::int64_t size, bool drop) { return d.batch({size, drop}); },
          nb::arg("batch_size"), nb::arg("drop_remainder"))
      .def("map", &dataset::map, nb::arg("op"), nb::arg("fields"))
      .def(
          "shard",
          [](const dataset& d, std::int64_t n, std::int64_t i, const std::string& padding) {
            return d.shard({n, i, shard_padding_from_name(padding)});
          },
          nb::arg("num_shards"), nb::arg("index"), nb::arg("padding"))
      .def("repeat", &dataset::repeat)
      .def("take", &dataset::take)
      .def("skip", &dataset::skip)
      .def("keep_resident", &dataset::keep_resident, nb::arg("keep"))
      .def_prop_ro("source_size", &dataset::source_size)
      .def_prop_ro("batches_per_epoch", &dataset::batches_per_epoch)
      .def_prop_ro("epochs_per_iteration", &dataset::epochs_per_iteration)
      .def_prop_ro("iteration_length", &dataset::iteration_length)
      .def_prop_ro("epoch_step", &dataset::epoch_step)
      .def_prop_ro("batched", &dataset::batched)
      .def_prop_ro("batch_size", [](const dataset& d) { return d.batching().batch_size; })
      .def_prop_ro("drop_remainder", [](const dataset& d) { return d.batching().drop_remainder; })
      .def_prop_ro("num_shards", [](const dataset& d) { return d.sharding().num_shards; })
      .def_prop_ro("shard_index", [](const dataset& d) { return d.sharding().index; })
      .def_prop_ro("seed", [](const dataset& d) { return d.shuffling().seed; })
      .def_prop_ro("element_spec",
                   [](const dataset& d) {
                     nb::list out;
                     for (const auto& s : d.element_spec())
                       out.append(nb::make_tuple(s.name, std::string(name(s.dtype)), nb::tuple(nb::cast(s.shape))));
                     return out;
                   })
      .def_prop_ro("fingerprint", &dataset::fingerprint)
      .def("initial_state", &dataset::initial_state)
      .def(
          "iterate",
          [](const dataset& d, std::int64_t buffer_size, std::int64_t threads, std::int64_t block_bytes) {
            return d.iterate({buffer_size, threads, block_bytes});
          },
          nb::arg("buffer_size"), nb::arg("num_threads"), nb::arg("block_bytes"))
      .def(
          "resume",
          [](const dataset& d, const iterator_state& s, std::int64_t buffer_size, std::int64_t threads,
             std::int64_t block_bytes) { return d.resume(s, {buffer_size, threads, block_bytes}); },
          nb::arg("state"), nb::arg("buffer_size"), nb::arg("num_threads"), nb::arg("block_bytes"))
      .def(
          "iterate_part",
          [](const dataset& d, std::int64_t epoch, std::int64_t count, std::int64_t index, std::int64_t buffer_size,
             std::int64_t threads, std::int64_t block_bytes) {
            return d.iterate_part(epoch, {count, index}, {buffer_size, threads, block_bytes});
          },
          nb::arg("epoch"), nb::arg("count"), nb::arg("index"), nb::arg("buffer_size"), nb::arg("num_threads"),
          nb::arg("block_bytes"))
      .def(
          "resolve_prefetch",
          [](const dataset& d, std::int64_t buffer_size, std::int64_t threads, std::int64_t block_bytes) {
            const prefetch_options p = d.resolve_prefetch({buffer_size, threads, block_bytes});
            return nb::make_tuple(p.buffer_size, p.num_threads, p.block_bytes);
          },
          nb::arg("buffer_size"), nb::arg("num_threads"), nb::arg("block_bytes"))
      .def("batch_indices", &dataset::batch_indices);

  m.def(
      "gather_rows",
      [](const tensor& src, const tensor& indices, const tensor& dst) {
        const tensor idx = indices.contiguous();
        if (idx.dtype() != dtype::int64 || idx.ndim() != 1)
          fail(error_kind::type, "gather_rows: indices must be a 1-d int64 tensor, got ", idx.describe());
        gather_rows(src, {static_cast<const std::int64_t*>(idx.data()), static_cast<std::size_t>(idx.numel())}, dst);
      },
      nb::call_guard<nb::gil_scoped_release>());
  m.def(
      "time_gather",
      [](const std::vector<tensor>& fields, const tensor& order, std::int64_t batch_size) {
        const tensor idx = order.contiguous();
        if (idx.dtype() != dtype::int64 || idx.ndim() != 1)
          fail(error_kind::type, "time_gather: order must be a 1-d int64 tensor, got ", idx.describe());
        return time_gather(fields, {static_cast<const std::int64_t*>(idx.data()), static_cast<std::size_t>(idx.numel())},
                           batch_size);
      },
      nb::call_guard<nb::gil_scoped_release>());
  m.def("sample_seed", &sample_seed);
  m.def(
      "validate_prefetch",
      [](std::int64_t buffer_size, std::int64_t threads, std::int64_t block_bytes) {
        prefetch_options{buffer_size, threads, block_bytes}.validate();
      },
      nb::arg("buffer_size"), nb::arg("num_threads"), nb::arg("block_bytes"));
}

}  // namespace tb::python
