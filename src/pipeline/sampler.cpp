// Permutation, window, shard and batch arithmetic. Everything here is a pure function of
// (spec, seed, epoch, position), which is what makes the order independent of threads and lets
// an iterator resume from a counter.

#include "pipeline/sampler_internal.hpp"

#include <algorithm>
#include <bit>
#include <limits>

namespace tb {

shard_padding shard_padding_from_name(std::string_view name) {
  if (name == "wrap") return shard_padding::wrap;
  if (name == "drop") return shard_padding::drop;
  if (name == "uneven") return shard_padding::uneven;
  fail(error_kind::value, "shard: padding must be \"wrap\", \"drop\" or \"uneven\", got \"", name, "\"");
}


void shuffle_options::validate() const {
  if (buffer_size && *buffer_size < 1)
    fail(error_kind::value, "shuffle: buffer_size must be >= 1 when given, got ", *buffer_size,
         "; omit it: in-memory and memory-mapped sources are always shuffled globally");
}

void batch_options::validate() const {
  if (batch_size < 1)
    fail(error_kind::value, "batch: batch_size must be at least 1, got ", batch_size);
}

void shard_options::validate() const {
  if (num_shards < 1) fail(error_kind::value, "shard: num_shards must be at least 1, got ", num_shards);
  if (index < 0 || index >= num_shards)
    fail(error_kind::value, "shard: index ", index, " is out of range for num_shards=", num_shards,
         "; pass an index in [0, ", num_shards - 1, "]");
}

std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t index) noexcept {
  using detail::mix64;
  return mix64(mix64(mix64(seed) ^ static_cast<std::uint64_t>(epoch)) ^ static_cast<std::uint64_t>(index));
}

namespace detail {

std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::max() : r;
}

std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::max() : r;
}

std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

index_permutation::index_permutation(std::int64_t n) : n_(n) {}

index_permutation::index_permutation(std::int64_t n, std::uint64_t key) : n_(n), identity_(n <= 1) {
  if (identity_) return;
  int bits = std::bit_width(static_cast<std::uint64_t>(n - 1));  // 2^bits >= n > 2^(bits-1)
  mask_ = bits >= 64 ? ~0ull : (1ull << bits) - 1;
  shift_ = std::max(1, (bits + 1) / 2);
  std::uint64_t state = key;
  for (int r = 0; r < rounds; ++r) {
    state = mix64(state + static_cast<std::uint64_t>(r));
    keys_[r] = state & mask_;
    mults_[r] = (mix64(state ^ 0x5851f42d4c957f2dull) | 1ull) & mask_;  // odd: invertible mod 2^bits
    if (mults_[r] == 0) mults_[r] = 1;
  }
}

std::uint64_t index_permutation::step(std::uint64_t x) const noexcept {
  for (int r = 0; r < rounds; ++r) {
    x = ((x ^ keys_[r]) * mults_[r]) & mask_;
    x ^= x >> shift_;
  }
  return x;
}

std::int64_t index_permutation::operator()(std::int64_t i) const noexcept {
  if (identity_) return i;
  std::uint64_t x = step(static_cast<std::uint64_t>(i));
  while (x >= static_cast<std::uint64_t>(n_)) x = step(x);  // cycle-walk back into [0, n)
  return static_cast<std::int64_t>(x);
}

window window::then_skip(std::int64_t n) const noexcept {
  window w = *this;
  w.skip = saturating_add(w.skip, n);
  if (w.take >= 0) w.take = std::max<std::int64_t>(0, w.take - n);
  return w;
}

window window::then_take(std::int64_t n) const noexcept {
  window w = *this;
  w.take = w.take < 0 ? n : std::min(w.take, n);
  return w;
}

std::int64_t window::apply(std::int64_t size) const noexcept {
  std::int64_t s = std::max<std::int64_t>(0, size - skip);
  return take >= 0 ? std::min(s, take) : s;
}

namespace {

std::int64_t shard_count(std::int64_t w, const shard_options& shard) {
  const std::int64_t s = shard.num_shards, r = shard.index;
  switch (shard.padding) {
    case shard_padding::wrap: return w == 0 ? 0 : (w + s - 1) / s;
    case shard_padding::drop: return w / s;
    case shard_padding::uneven: return r < w ? (w - r + s - 1) / s : 0;
  }
  return 0;
}

std::int64_t batch_count(std::int64_t count, const order_spec& spec) {
  const std::int64_t b = spec.batch.batch_size;
  // count / b rounded up without count + b - 1, which overflows for a batch size near INT64_MAX.
  std::int64_t raw = count / b + (!spec.batch.drop_remainder && count % b != 0);
  return spec.batch_window.apply(raw);
}

}  // namespace

std::int64_t samples_per_epoch(const order_spec& spec) {
  std::int64_t m = spec.source_window.apply(spec.num_rows);
  std::int64_t w = spec.shuffled_window.apply(m);
  return shard_count(w, spec.shard);
}

std::int64_t batches_per_epoch(const order_spec& spec) { return batch_count(samples_per_epoch(spec), spec); }

epoch_order::epoch_order(const order_spec& spec, std::uint64_t seed, std::int64_t epoch)
    : spec_(&spec), perm_(spec.source_window.apply(spec.num_rows)) {
  const std::int64_t m = perm_.size();
  if (spec.shuffled) {
    std::uint64_t e = spec.reshuffle_each_epoch ? static_cast<std::uint64_t>(epoch) : 0;
    perm_ = index_permutation(m, mix64(mix64(seed) ^ mix64(e ^ 0x243f6a8885a308d3ull)));
  }
  window_size_ = spec.shuffled_window.apply(m);
  count_ = shard_count(window_size_, spec.shard);
  batches_ = batch_count(count_, spec);
}

std::int64_t epoch_order::source_row(std::int64_t j) const noexcept {
  std::int64_t p = spec_->shard.index + spec_->shard.num_shards * j;
  if (p >= window_size_) p %= window_size_;  // wrap padding: repeat the epoch's first samples
  return spec_->source_window.skip + perm_(spec_->shuffled_window.skip + p);
}

// first < count_ for every batch that exists, so first + length never overflows (first + size could).
std::int64_t epoch_order::batch_length(std::int64_t b) const noexcept {
  const std::int64_t size = spec_->batch.batch_size;
  const std::int64_t first = (spec_->batch_window.skip + b) * size;
  return std::min(size, count_ - first);
}

void epoch_order::batch_rows(std::int64_t b, std::vector<std::int64_t>& out) const {
  const std::int64_t first = (spec_->batch_window.skip + b) * spec_->batch.batch_size;
  const std::int64_t last = first + batch_length(b);
  for (std::int64_t j = first; j < last; ++j) out.push_back(source_row(j));
}

}  // namespace detail
}  // namespace tb
