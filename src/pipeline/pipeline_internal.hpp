#pragma once
// The resolved pipeline shared by a dataset and its iterators, and the one function that makes a
// batch out of it.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "pipeline/arena_internal.hpp"
#include "pipeline/sampler_internal.hpp"
#include "tensorbridge/pipeline/dataset.hpp"

namespace tb::detail {

/// One `map` call: the op and the fields it applies to.
struct map_step {
  map_op op;
  std::vector<std::int64_t> fields;
};

/// Everything a dataset is; immutable once built.
struct dataset_plan {
  std::vector<dataset_field> fields;  // the source
  std::vector<std::vector<std::int64_t>> offsets;  // per field: first row of each part, then the total
  std::vector<field_spec> specs;      // per-sample output after the maps
  order_spec order;
  std::uint64_t seed = 0;
  bool random_seed = false;           // the seed was drawn at random: sharding is refused
  std::vector<map_step> maps;
  bool sharded = false;
  bool repeated = false;
  std::int64_t repeat = 1;            // epochs per iteration, -1: forever
  std::int64_t limit = -1;            // batches per iteration (take after repeat), -1: no limit
  std::uint64_t source_hash = 0;      // shapes, dtypes and a few rows of the source
  bool keep_resident = false;         // read mapped source rows through the mapping, not with pread
};

/// True if one row of `t` (all dimensions but the first) is C-contiguous.
bool rows_contiguous(const tensor& t);

/// Rows of a field counting its continued parts, and the first row of each part.
std::vector<std::int64_t> part_offsets(const dataset_field& field);

/// `gather_rows` over a field made of several parts (`offsets` from `part_offsets`).
void gather_field(const dataset_field& field, const std::vector<std::int64_t>& offsets,
                  std::span<const std::int64_t> rows, const tensor& dst);

/// Gathers `rows` of field `k` of `plan` into `dst`: `gather_field`, or, unless
/// `plan.keep_resident`, positioned reads for the parts that are file mappings (file_gather.cpp).
void gather_source_field(const dataset_plan& plan, std::size_t k, std::span<const std::int64_t> rows,
                         const tensor& dst);

/// Applies `op` to `batch`, allocating its output from `arena` (or fresh memory when null);
/// `seeds` (one per sample) feed random ops.
tensor apply_op(const map_op& op, const tensor& batch, batch_arena* arena, std::span<const std::uint64_t> seeds);

/// Batches `first` to `first + count - 1` of `epoch` (which must exist), gathered and mapped
/// into one block; its `first` is left for the caller to set.
batch_block make_block(const dataset_plan& plan, batch_arena& arena, std::uint64_t seed, std::int64_t epoch,
                       std::int64_t first, std::int64_t count);

/// The output bytes of one full batch (at least 1).
std::int64_t batch_bytes(const dataset_plan& plan);
/// How many batches make a block of about `block_bytes` output bytes (at least 1, at most 1024).
std::int64_t batches_per_block(const dataset_plan& plan, std::int64_t block_bytes);

/// Batches in one iteration of `plan` (-1: forever).
std::int64_t iteration_length(const dataset_plan& plan);

/// True on a prefetch worker that runs beside other workers: batches are already made in parallel,
/// so a worker splits a gather over the thread pool only when its bytes alone would pay for it.
inline thread_local bool one_of_several_producers = false;

}  // namespace tb::detail
