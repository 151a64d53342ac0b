#pragma once
// Which source rows make up batch b of epoch e on shard r: the permutation, window, shard and
// batch arithmetic of the pipeline, in O(1) per index and with no per-epoch state.

#include <cstdint>
#include <vector>

#include "tensorbridge/pipeline/dataset.hpp"

namespace tb::detail {

/// `a + b` and `a * b` for counts (>= 0), stopping at INT64_MAX instead of overflowing: counts that
/// large (take(2**63 - 1), repeat(2**62) twice) then mean "more than there will ever be".
std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept;
std::int64_t saturating_mul(std::int64_t a, std::int64_t b) noexcept;

/// splitmix64's finaliser: a cheap, well-mixed 64-bit hash.
std::uint64_t mix64(std::uint64_t x) noexcept;

/// A pseudo-random bijection of [0, n) keyed by a 64-bit key.
///
/// Rounds of (xor key, multiply by an odd constant, xorshift right) are each a bijection of
/// [0, 2^k); cycle-walking restricts the composition to [0, n) (fewer than 2 steps on average
/// since 2^k < 2n).
class index_permutation {
 public:
  /// The identity of [0, n).
  explicit index_permutation(std::int64_t n);
  /// A keyed permutation of [0, n).
  index_permutation(std::int64_t n, std::uint64_t key);
  /// Where position `i` (in [0, n)) goes.
  std::int64_t operator()(std::int64_t i) const noexcept;
  std::int64_t size() const noexcept { return n_; }

 private:
  static constexpr int rounds = 6;
  std::uint64_t step(std::uint64_t x) const noexcept;
  std::int64_t n_ = 0;
  bool identity_ = true;
  std::uint64_t mask_ = 0;
  int shift_ = 1;
  std::uint64_t keys_[rounds] = {};
  std::uint64_t mults_[rounds] = {};
};

/// `skip` then `take` over a sequence; composes repeated take/skip calls into one window.
struct window {
  std::int64_t skip = 0;   ///< elements dropped from the front
  std::int64_t take = -1;  ///< elements kept after that; -1: all
  window then_skip(std::int64_t n) const noexcept;
  window then_take(std::int64_t n) const noexcept;
  /// The length of the windowed sequence over a sequence of `size` elements.
  std::int64_t apply(std::int64_t size) const noexcept;
};

/// Everything that decides the order of samples; shared by the dataset and its iterators.
struct order_spec {
  std::int64_t num_rows = 0;                  // rows of the source
  window source_window;                       // take/skip before shuffle
  bool shuffled = false;
  bool reshuffle_each_epoch = true;
  window shuffled_window;                     // take/skip after shuffle, before shard
  shard_options shard;
  bool batched = false;
  batch_options batch;                        // batch_size 1 when unbatched
  window batch_window;                        // take/skip after batch
};

/// The order of one epoch on one shard.
class epoch_order {
 public:
  epoch_order(const order_spec& spec, std::uint64_t seed, std::int64_t epoch);
  /// Samples of this shard in the epoch (before batching and the batch window).
  std::int64_t shard_samples() const noexcept { return count_; }
  /// Batches in the epoch, after the batch window.
  std::int64_t batches() const noexcept { return batches_; }
  /// The source row of this shard's sample `j` (in [0, shard_samples())).
  std::int64_t source_row(std::int64_t j) const noexcept;
  /// Samples in batch `b` (in [0, batches())): the batch size, or fewer for the last batch.
  std::int64_t batch_length(std::int64_t b) const noexcept;
  /// Appends the source rows of batch `b` (in [0, batches())) to `out`.
  void batch_rows(std::int64_t b, std::vector<std::int64_t>& out) const;

 private:
  const order_spec* spec_;
  index_permutation perm_;
  std::int64_t window_size_ = 0;  // W: samples of the whole epoch, all shards
  std::int64_t count_ = 0;
  std::int64_t batches_ = 0;
};

/// Batches per epoch for `spec` (independent of seed and epoch).
std::int64_t batches_per_epoch(const order_spec& spec);
/// Samples per epoch on this shard, before batching (independent of seed and epoch).
std::int64_t samples_per_epoch(const order_spec& spec);

}  // namespace tb::detail
