// Building a pipeline (the stage rules), fingerprints, and making one batch.

#include <algorithm>
#include <cstring>
#include <set>

#include "pipeline/image_ops_internal.hpp"
#include "pipeline/pipeline_internal.hpp"

namespace tb {
namespace detail {
namespace {

std::uint64_t hash_bytes(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = mix64(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  return mix64(h ^ tail ^ (static_cast<std::uint64_t>(n) << 56));
}

std::uint64_t hash_value(std::uint64_t h, std::int64_t v) { return mix64(h ^ static_cast<std::uint64_t>(v)); }

// Shapes, dtypes and up to 9 evenly spaced rows: O(1) work that tells data sets apart in practice.
std::uint64_t hash_source(const std::vector<dataset_field>& fields, const std::vector<std::vector<std::int64_t>>& offsets,
                          std::int64_t rows) {
  std::uint64_t h = hash_value(0x6a09e667f3bcc908ull, rows);
  std::vector<std::int64_t> picks;
  for (std::int64_t i = 0; i < 9 && rows > 0; ++i) picks.push_back(rows == 1 ? 0 : i * (rows - 1) / 8);
  for (std::size_t k = 0; k < fields.size(); ++k) {
    const auto& f = fields[k];
    h = hash_bytes(h, f.name.data(), f.name.size());
    h = hash_value(h, static_cast<std::int64_t>(f.data.dtype()));
    for (auto d : f.data.shape()) h = hash_value(h, d);
    shape_t shape = f.data.shape();
    shape[0] = static_cast<std::int64_t>(picks.size());
    tensor sample = tensor::empty(shape, f.data.dtype());
    gather_field(f, offsets[k], picks, sample);
    h = hash_bytes(h, sample.data(), sample.nbytes());
  }
  return h;
}

std::uint64_t hash_window(std::uint64_t h, const window& w) { return hash_value(hash_value(h, w.skip), w.take); }

}  // namespace

std::int64_t iteration_length(const dataset_plan& plan) {
  const std::int64_t per_epoch = batches_per_epoch(plan.order);
  if (per_epoch == 0) return 0;
  std::int64_t n = plan.repeat < 0 ? -1 : saturating_mul(plan.repeat, per_epoch);
  if (plan.limit >= 0) n = n < 0 ? plan.limit : std::min(n, plan.limit);
  return n;
}

batch_block make_block(const dataset_plan& plan, batch_arena& arena, std::uint64_t seed, std::int64_t epoch,
                       std::int64_t first, std::int64_t count) {
  epoch_order order(plan.order, seed, epoch);
  batch_block block;
  block.batched = plan.order.batched;
  std::int64_t total = 0;  // the rows actually batched, never batch_size * count
  for (std::int64_t b = first; b < first + count; ++b) total += order.batch_length(b);
  std::vector<std::int64_t> rows;
  rows.reserve(static_cast<std::size_t>(total));
  for (std::int64_t b = first; b < first + count; ++b) {
    order.batch_rows(b, rows);
    block.offsets.push_back(static_cast<std::int64_t>(rows.size()));
  }
  block.seeds = arena.empty({static_cast<std::int64_t>(rows.size())}, dtype::uint64);
  const std::span<std::uint64_t> seeds(static_cast<std::uint64_t*>(block.seeds.data()), rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) seeds[r] = sample_seed(seed, epoch, rows[r]);
  block.fields.reserve(plan.fields.size());
  for (std::size_t k = 0; k < plan.fields.size(); ++k) {
    const auto& f = plan.fields[k];
    if (f.images) {  // image files, decoded and transformed into the block (image_source.cpp)
      shape_t shape{static_cast<std::int64_t>(rows.size())};
      shape.insert(shape.end(), f.images->sample_shape.begin(), f.images->sample_shape.end());
      tensor t = arena.empty(std::move(shape), f.images->transform.dtype);
      gather_images(*f.images, rows, seeds, t);
      block.fields.push_back(std::move(t));
      continue;
    }
    shape_t shape = f.data.shape();
    shape[0] = static_cast<std::int64_t>(rows.size());
    tensor t = arena.empty(std::move(shape), f.data.dtype());
    gather_source_field(plan, k, rows, t);  // gather_field, or pread for mapped files (file_gather.cpp)
    block.fields.push_back(std::move(t));
  }
  // Every native op is defined per sample, so applying it to the block equals applying it to
  // each batch.
  for (const auto& step : plan.maps)
    for (auto f : step.fields) {
      auto& field = block.fields[static_cast<std::size_t>(f)];
      field = apply_op(step.op, field, &arena, seeds);
    }
  return block;
}

std::int64_t batch_bytes(const dataset_plan& plan) {
  std::int64_t sample_bytes = 0;
  for (const auto& s : plan.specs) {
    std::int64_t n = static_cast<std::int64_t>(tb::itemsize(s.dtype));
    for (auto d : s.shape) n *= d;
    sample_bytes += n;
  }
  // A batch holds at most the samples of an epoch, whatever batch size was asked for.
  const std::int64_t rows = std::min(plan.order.batch.batch_size, samples_per_epoch(plan.order));
  return std::max<std::int64_t>(1, saturating_mul(sample_bytes, rows));
}

std::int64_t batches_per_block(const dataset_plan& plan, std::int64_t block_bytes) {
  return std::clamp<std::int64_t>(block_bytes / batch_bytes(plan), 1, 1024);
}

}  // namespace detail

using detail::dataset_plan;

std::vector<std::int64_t> batch_block::sizes() const {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(count()));
  for (std::size_t i = 0; i + 1 < offsets.size(); ++i) out.push_back(offsets[i + 1] - offsets[i]);
  return out;
}

std::vector<tensor> batch_block::batch(std::int64_t i) const {
  if (i < 0 || i >= count()) fail(error_kind::value, "batch_block::batch: index ", i, " is outside [0, ", count(), ")");
  std::vector<tensor> out;
  out.reserve(fields.size());
  const auto begin = offsets[static_cast<std::size_t>(i)];
  const auto end = offsets[static_cast<std::size_t>(i) + 1];
  for (const auto& f : fields) {
    tensor t = f.slice(begin, end);
    if (!batched) t = t.reshape(shape_t(f.shape().begin() + 1, f.shape().end()));
    out.push_back(std::move(t));
  }
  return out;
}

dataset::dataset(std::shared_ptr<const dataset_plan> plan)
    : plan_(std::move(plan)), next_epoch_(std::make_shared<std::atomic<std::int64_t>>(0)) {}

dataset dataset::from_tensor_slices(std::vector<dataset_field> fields) {
  if (fields.empty()) fail(error_kind::value, "from_tensor_slices: no arrays given; pass an array, a tuple or a dict");
  auto plan = std::make_shared<dataset_plan>();
  std::set<std::string> names;
  std::int64_t rows = 0;
  for (std::size_t k = 0; k < fields.size(); ++k) {
    const auto& f = fields[k];
    for (std::size_t p = 0; p <= f.continued.size(); ++p) {
      const tensor& part = p == 0 ? f.data : f.continued[p - 1];
      if (part.ndim() == 0)
        fail(error_kind::value, "from_tensor_slices: field '", f.name,
             "' is a 0-d scalar; every array needs a first dimension that indexes samples");
      if (!part.device().is_host())
        fail(error_kind::type, "from_tensor_slices: field '", f.name, "' lives on ", to_string(part.device()),
             "; move it to the CPU first");
      if (p > 0 && (part.dtype() != f.data.dtype() ||
                    shape_t(part.shape().begin() + 1, part.shape().end()) !=
                        shape_t(f.data.shape().begin() + 1, f.data.shape().end())))
        fail(error_kind::value, "from_tensor_slices: part ", p, " of field '", f.name, "' is ", part.describe(),
             ", but part 0 is ", f.data.describe(), "; concatenated parts need the same dtype and row shape");
    }
    plan->offsets.push_back(detail::part_offsets(f));
    const std::int64_t n = plan->offsets.back().back();
    if (k == 0) rows = n;
    if (n != rows)
      fail(error_kind::value, "from_tensor_slices: field '", f.name, "' has ", n,
           " rows but field '", fields[0].name, "' has ", rows, "; every field needs the same first dimension");
    if (!names.insert(f.name).second) fail(error_kind::value, "from_tensor_slices: duplicate field name '", f.name, "'");
    plan->specs.push_back({f.name, f.data.dtype(), shape_t(f.data.shape().begin() + 1, f.data.shape().end())});
  }
  plan->order.num_rows = rows;
  plan->order.shuffled = false;
  plan->source_hash = detail::hash_source(fields, plan->offsets, rows);
  plan->fields = std::move(fields);
  return dataset(std::move(plan));
}

dataset dataset::shuffle(const shuffle_options& options) const {
  options.validate();
  if (plan_->order.batched || plan_->repeated)
    fail(error_kind::value, "shuffle() after ", plan_->order.batched ? "batch()" : "repeat()",
         " is not supported: call shuffle() first; it shuffles samples globally, in every epoch");
  if (plan_->order.shuffled) fail(error_kind::value, "shuffle() called twice; one global shuffle is already exact");
  if (options.random_seed && plan_->order.shard.num_shards > 1)
    fail(error_kind::value, "shuffle(seed=None) on a sharded data set: pass an explicit seed so that every rank draws "
         "the same order");
  auto plan = std::make_shared<dataset_plan>(*plan_);
  plan->order.shuffled = options.enabled;
  plan->order.reshuffle_each_epoch = options.reshuffle_each_epoch;
  plan->seed = options.seed;
  plan->random_seed = options.random_seed;
  return dataset(std::move(plan));
}

dataset dataset::batch(const batch_options& options) const {
  options.validate();
  if (plan_->order.batched) fail(error_kind::value, "batch() called twice; batching batches is not supported");
  if (plan_->repeated)
    fail(error_kind::value, "batch() after repeat() is not supported: call batch() before repeat() (batches never span epochs)");
  auto plan = std::make_shared<dataset_plan>(*plan_);
  plan->order.batched = true;
  plan->order.batch = options;
  return dataset(std::move(plan));
}

dataset dataset::map(const map_op& op, std::vector<std::int64_t> on) const {
  op.validate();
  auto plan = std::make_shared<dataset_plan>(*plan_);
  const auto nfields = static_cast<std::int64_t>(plan->fields.size());
  if (on.empty())
    for (std::int64_t i = 0; i < nfields; ++i) on.push_back(i);
  std::vector<std::int64_t> unfused;
  for (auto f : on) {
    if (f < 0 || f >= nfields)
      fail(error_kind::value, "map: field index ", f, " is out of range for ", nfields, " fields");
    auto& field = plan->fields[static_cast<std::size_t>(f)];
    auto& spec = plan->specs[static_cast<std::size_t>(f)];
    if (field.images) {  // a column of image files: fuse the op into the decode if it can be
      auto source = std::make_shared<image_source>(*field.images);
      const bool fused = detail::fold_image_op(*source, op);
      field.images = source;
      if (fused) {
        spec = {spec.name, source->transform.dtype, source->sample_shape};
        plan->source_hash = detail::hash_value(detail::hash_value(plan->source_hash, static_cast<std::int64_t>(op.kind)),
                                       static_cast<std::int64_t>(op.p * 1e6) + f);
        continue;
      }
    }
    spec = op.output_spec(spec);
    unfused.push_back(f);
  }
  if (!unfused.empty()) plan->maps.push_back({op, std::move(unfused)});
  return dataset(std::move(plan));
}

dataset dataset::shard(const shard_options& options) const {
  options.validate();
  if (plan_->sharded) fail(error_kind::value, "shard() called twice");
  if (plan_->order.batched || plan_->repeated)
    fail(error_kind::value, "shard() after ", plan_->order.batched ? "batch()" : "repeat()",
         " is not supported: call shard() before batch() (it shards samples, so every rank gets whole batches)");
  if (options.num_shards > 1 && plan_->random_seed)
    fail(error_kind::value, "shard() after shuffle(seed=None): pass an explicit seed to shuffle() so that every rank "
         "draws the same order");
  auto plan = std::make_shared<dataset_plan>(*plan_);
  plan->sharded = true;
  plan->order.shard = options;
  return dataset(std::move(plan));
}

dataset dataset::repeat(std::int64_t count) const {
  if (count < -1) fail(error_kind::value, "repeat: count must be -1 (forever) or >= 0, got ", count);
  auto plan = std::make_shared<dataset_plan>(*plan_);
  if (!plan->repeated) plan->repeat = count;
  else plan->repeat = (plan->repeat < 0 || count < 0) ? -1 : detail::saturating_mul(plan->repeat, count);
  plan->repeated = true;
  return dataset(std::move(plan));
}

dataset dataset::take(std::int64_t n) const {
  if (n < -1) fail(error_kind::value, "take: count must be -1 (all) or >= 0, got ", n);
  if (n == -1) return *this;
  auto plan = std::make_shared<dataset_plan>(*plan_);
  auto& o = plan->order;
  if (plan->repeated) plan->limit = plan->limit < 0 ? n : std::min(plan->limit, n);
  else if (o.batched) o.batch_window = o.batch_window.then_take(n);
  else if (plan->sharded)
    fail(error_kind::value, "take() between shard() and batch() is not supported: call it before shard() or after batch()");
  else if (o.shuffled) o.shuffled_window = o.shuffled_window.then_take(n);
  else o.source_window = o.source_window.then_take(n);
  return dataset(std::move(plan));
}

dataset dataset::skip(std::int64_t n) const {
  if (n < 0) fail(error_kind::value, "skip: count must be >= 0, got ", n);
  auto plan = std::make_shared<dataset_plan>(*plan_);
  auto& o = plan->order;
  if (plan->repeated)
    fail(error_kind::value, "skip() after repeat() is not supported; to resume part-way, save and restore the iterator state");
  else if (o.batched) o.batch_window = o.batch_window.then_skip(n);
  else if (plan->sharded)
    fail(error_kind::value, "skip() between shard() and batch() is not supported: call it before shard() or after batch()");
  else if (o.shuffled) o.shuffled_window = o.shuffled_window.then_skip(n);
  else o.source_window = o.source_window.then_skip(n);
  return dataset(std::move(plan));
}

std::int64_t dataset::source_size() const { return plan_->order.num_rows; }
std::int64_t dataset::batches_per_epoch() const { return detail::batches_per_epoch(plan_->order); }
std::int64_t dataset::epochs_per_iteration() const { return plan_->repeat; }
std::int64_t dataset::epoch_step() const { return plan_->repeat < 1 ? 1 : plan_->repeat; }
std::int64_t dataset::iteration_length() const { return detail::iteration_length(*plan_); }
bool dataset::batched() const { return plan_->order.batched; }
batch_options dataset::batching() const { return plan_->order.batch; }
shard_options dataset::sharding() const { return plan_->order.shard; }
shuffle_options dataset::shuffling() const {
  return {.enabled = plan_->order.shuffled,
          .seed = plan_->seed,
          .random_seed = plan_->random_seed,
          .reshuffle_each_epoch = plan_->order.reshuffle_each_epoch};
}
std::vector<field_spec> dataset::element_spec() const { return plan_->specs; }

std::uint64_t dataset::fingerprint() const {
  using detail::hash_value;
  const auto& o = plan_->order;
  std::uint64_t h = plan_->source_hash;
  h = detail::hash_window(h, o.source_window);
  h = hash_value(h, o.shuffled * 2 + o.reshuffle_each_epoch);
  h = detail::hash_window(h, o.shuffled_window);
  h = hash_value(hash_value(h, o.shard.num_shards), static_cast<std::int64_t>(o.shard.padding));
  h = hash_value(hash_value(h, o.batched ? o.batch.batch_size : 0), o.batch.drop_remainder);
  h = detail::hash_window(h, o.batch_window);
  h = hash_value(hash_value(h, plan_->repeat), plan_->limit);
  for (const auto& s : plan_->specs) {
    h = hash_value(h, static_cast<std::int64_t>(s.dtype));
    for (auto d : s.shape) h = hash_value(h, d);
  }
  return h;
}

iterator_state dataset::initial_state(std::int64_t epoch) const {
  iterator_state s;
  s.fingerprint = fingerprint();
  s.seed = plan_->seed;
  s.first_epoch = s.epoch = epoch;
  s.num_shards = plan_->order.shard.num_shards;
  s.shard_index = plan_->order.shard.index;
  return s;
}

prefetch_options dataset::resolve_prefetch(const prefetch_options& prefetch) const {
  prefetch.validate();
  return prefetch.resolve(
      detail::saturating_mul(detail::batches_per_block(*plan_, prefetch.block_bytes), detail::batch_bytes(*plan_)));
}

std::unique_ptr<dataset_iterator> dataset::iterate(const prefetch_options& prefetch) const {
  const prefetch_options resolved = resolve_prefetch(prefetch);
  const std::int64_t epochs = epoch_step();
  std::int64_t epoch = next_epoch_->load();
  while (!next_epoch_->compare_exchange_weak(epoch, detail::saturating_add(epoch, epochs))) {
  }
  return std::make_unique<dataset_iterator>(plan_, initial_state(epoch), resolved);
}

std::unique_ptr<dataset_iterator> dataset::resume(const iterator_state& state, const prefetch_options& prefetch) const {
  const prefetch_options resolved = resolve_prefetch(prefetch);
  check_state(state);
  advance_past(state);
  return std::make_unique<dataset_iterator>(plan_, state, resolved);
}

void dataset::advance_past(const iterator_state& state) const {
  const std::int64_t after = detail::saturating_add(state.first_epoch, epoch_step());
  std::int64_t cur = next_epoch_->load();
  while (cur < after && !next_epoch_->compare_exchange_weak(cur, after)) {
  }
}

std::unique_ptr<dataset_iterator> dataset::iterate_part(std::int64_t epoch, const iteration_part& part,
                                                        const prefetch_options& prefetch) const {
  const prefetch_options resolved = resolve_prefetch(prefetch);
  part.validate();
  const iterator_state start = initial_state(epoch);
  check_state(start);
  advance_past(start);
  return std::make_unique<dataset_iterator>(plan_, start, resolved, part);
}

void dataset::check_state(const iterator_state& state) const {
  const auto refuse = [](const char* field, auto value, auto&&... expected) {
    fail(error_kind::value, "cannot resume: the state's '", field, "' is ", value, ", expected ",
         std::forward<decltype(expected)>(expected)...,
         "; restore the state that iterator.state() returned for this data set, unchanged");
  };
  if (state.fingerprint != fingerprint())
    refuse("fingerprint", format_fingerprint(state.fingerprint), format_fingerprint(fingerprint()),
           ": the state was saved from another data set or pipeline; use the same arrays with the same "
           "shuffle/batch/shard/repeat options");
  if (state.seed != plan_->seed)
    refuse("seed", state.seed, plan_->seed, " (this data set's shuffle seed); build it with shuffle(seed=", state.seed,
           ") to resume this state");
  const auto& shard = plan_->order.shard;
  if (state.num_shards != shard.num_shards)
    refuse("num_shards", state.num_shards, shard.num_shards, " (this data set is shard ", shard.index, " of ",
           shard.num_shards, "); restore each rank's own state");
  if (state.shard_index != shard.index)
    refuse("shard_index", state.shard_index, shard.index, " (this data set is shard ", shard.index, " of ",
           shard.num_shards, "); restore each rank's own state");
  if (state.first_epoch < 0) refuse("first_epoch", state.first_epoch, ">= 0");
  const std::int64_t length = detail::iteration_length(*plan_);
  if (state.yielded < 0 || (length >= 0 && state.yielded > length)) {
    if (length >= 0) refuse("yielded", state.yielded, "0 to ", length, " (the batches of this iteration)");
    refuse("yielded", state.yielded, ">= 0");
  }
  // epoch and cursor are derived from (first_epoch, yielded); they must agree.
  const std::int64_t per_epoch = detail::batches_per_epoch(plan_->order);
  const std::int64_t epoch = detail::saturating_add(state.first_epoch, per_epoch > 0 ? state.yielded / per_epoch : 0);
  const std::int64_t cursor = per_epoch > 0 ? state.yielded % per_epoch : 0;
  if (state.epoch != epoch)
    refuse("epoch", state.epoch, epoch, " (first_epoch=", state.first_epoch, " plus yielded=", state.yielded, " over ",
           per_epoch, " batches per epoch)");
  if (state.cursor != cursor)
    refuse("cursor", state.cursor, cursor, " (yielded=", state.yielded, " modulo ", per_epoch, " batches per epoch)");
}

std::vector<std::int64_t> dataset::batch_indices(std::uint64_t seed, std::int64_t epoch, std::int64_t batch) const {
  detail::epoch_order order(plan_->order, seed, epoch);
  std::vector<std::int64_t> rows;
  if (batch >= 0 && batch < order.batches()) order.batch_rows(batch, rows);
  return rows;
}

}  // namespace tb
