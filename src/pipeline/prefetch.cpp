// The iterator: worker threads produce blocks of consecutive batches into a ring of `depth`
// slots, the consumer takes them in sequence order. Batch k's content is a pure function of k,
// so which thread makes it, and in which block, never changes the stream; the ring bounds how
// far the workers run ahead.

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <utility>
#include <thread>

#include "pipeline_internal.hpp"
#include "tensorbridge/threads.hpp"

namespace tb {

void prefetch_options::validate() const {
  if (depth < 0 && depth != autotune)
    fail(error_kind::value, "prefetch: depth must be >= 0 or AUTOTUNE (-1), got ", depth);
  if (num_threads < 0 && num_threads != autotune)
    fail(error_kind::value, "prefetch: num_threads must be >= 0 (0 = automatic) or AUTOTUNE (-1), got ", num_threads);
}

prefetch_options prefetch_options::resolve(std::int64_t block_size) const {
  prefetch_options out = *this;
  const std::int64_t hardware = std::max<std::int64_t>(1, tb::num_threads());
  const std::int64_t threads = num_threads == autotune ? hardware : (num_threads > 0 ? num_threads : hardware);
  if (depth == autotune) {
    // Up to four blocks per worker: enough that every worker has a free slot while the consumer
    // holds one and a slow training step is absorbed; big blocks get fewer, so that the ring
    // stays within the memory budget, but never fewer than two (one filling, one handed over).
    const std::int64_t fits = autotune_bytes / std::max<std::int64_t>(1, block_size);
    out.depth = std::clamp<std::int64_t>(fits, 2, std::max<std::int64_t>(2, 4 * threads));
  }
  if (num_threads == autotune) out.num_threads = std::max<std::int64_t>(1, std::min(hardware, out.depth));
  return out;
}

class dataset_iterator::impl {
 public:
  impl(std::shared_ptr<const detail::dataset_plan> plan, const iterator_state& start, const prefetch_options& prefetch)
      : plan_(std::move(plan)),
        arena_(detail::batch_arena::create()),
        start_(start),
        per_epoch_(detail::batches_per_epoch(plan_->order)),
        per_block_(detail::batches_per_block(*plan_, prefetch.block_bytes)),
        handed_(start.yielded),
        taken_(start.yielded),
        next_claim_(start.yielded) {
    const std::int64_t length = detail::iteration_length(*plan_);
    end_ = length < 0 ? std::numeric_limits<std::int64_t>::max() : length;
    const std::int64_t depth = prefetch.depth;
    if (depth > 0 && taken_ < end_) {
      ring_.resize(static_cast<std::size_t>(depth));
      std::int64_t threads = prefetch.num_threads > 0 ? prefetch.num_threads
                                                      : std::min<std::int64_t>(depth, tb::num_threads());
      threads = std::max<std::int64_t>(1, std::min(threads, depth));
      for (std::int64_t t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
    }
  }

  ~impl() { close(); }

  std::optional<std::vector<tensor>> next() {
    if (!current_) {
      current_ = take_block();
      cursor_ = 0;
      if (!current_) return std::nullopt;
    }
    std::vector<tensor> batch = current_->batch(cursor_++);
    ++handed_;
    if (cursor_ == current_->count()) current_.reset();  // let the arena have the buffer back early
    return batch;
  }

  std::optional<batch_block> next_block() {
    std::optional<batch_block> block;
    if (current_) {  // the rest of a block that next() started
      block.emplace();
      block->first = current_->first + cursor_;
      block->batched = current_->batched;
      const std::int64_t base = current_->offsets[static_cast<std::size_t>(cursor_)];
      block->offsets.assign(current_->offsets.begin() + cursor_, current_->offsets.end());
      for (auto& o : block->offsets) o -= base;
      for (const auto& f : current_->fields) block->fields.push_back(f.slice(base, f.shape()[0]));
      current_.reset();
    } else {
      block = take_block();
    }
    if (block) handed_ += block->count();
    return block;
  }

  iterator_state state() const { return state_at(handed_); }

  iterator_state state_at(std::int64_t yielded) const {
    if (yielded < start_.yielded || yielded > handed_)
      fail(error_kind::value, "state_at(", yielded, "): this iteration has delivered batches ", start_.yielded,
           " to ", handed_, " only");
    iterator_state s = start_;
    s.yielded = yielded;
    s.epoch = start_.first_epoch + (per_epoch_ > 0 ? yielded / per_epoch_ : 0);
    s.cursor = per_epoch_ > 0 ? yielded % per_epoch_ : 0;
    return s;
  }

  std::int64_t remaining() const {
    std::lock_guard lock(mutex_);
    if (end_ == std::numeric_limits<std::int64_t>::max()) return -1;
    return closed_ ? 0 : end_ - handed_;
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    space_.notify_all();
    ready_.notify_all();
    for (auto& w : workers_)
      if (w.joinable()) w.join();
    workers_.clear();
    std::lock_guard lock(mutex_);
    for (auto& s : ring_) s.block.reset();  // hand buffers back now, not when the iterator dies
    current_.reset();
  }

 private:
  struct slot {
    std::int64_t seq = -1;
    bool full = false;
    std::pair<std::int64_t, std::int64_t> range;  // first batch, count
    std::optional<batch_block> block;
    std::exception_ptr error;
  };

  // The batches of the next block: up to per_block_, never across an epoch or past the end.
  // Called with the mutex held (or with no workers).
  std::pair<std::int64_t, std::int64_t> claim() {
    const std::int64_t first = next_claim_;
    const std::int64_t count = std::min({per_block_, per_epoch_ - first % per_epoch_, end_ - first});
    next_claim_ += count;
    return {first, count};
  }

  batch_block produce(std::int64_t first, std::int64_t count) const {
    const std::int64_t epoch = start_.first_epoch + first / per_epoch_;
    batch_block block = detail::make_block(*plan_, *arena_, start_.seed, epoch, first % per_epoch_, count);
    block.first = first;
    return block;
  }

  // Makes a block on the consumer's thread. When a block fails, its batches are made again one
  // by one, so that the good batches before the bad one are still delivered and the error names
  // the bad batch; the error then ends the iteration, with the state just before that batch.
  batch_block produce_here(std::int64_t first, std::int64_t count) {
    try {
      return produce(first, count);
    } catch (...) {
      if (count == 1) {
        close();
        throw;
      }
    }
    retry_next_ = first + 1;
    retry_end_ = first + count;
    return produce_here(first, 1);
  }

  std::optional<batch_block> take_block() {
    std::unique_lock lock(mutex_);
    if (closed_) return std::nullopt;
    if (retry_next_ < retry_end_) {
      lock.unlock();
      return produce_here(retry_next_++, 1);
    }
    if (taken_ >= end_) return std::nullopt;
    if (ring_.empty()) {  // no prefetch: make the block here
      auto [first, count] = claim();
      taken_ += count;
      lock.unlock();
      return produce_here(first, count);
    }
    slot& s = ring_[static_cast<std::size_t>(blocks_taken_ % static_cast<std::int64_t>(ring_.size()))];
    if (!(s.full && s.seq == blocks_taken_)) {
      ++consumer_waiting_;
      ready_.wait(lock, [&] { return closed_ || (s.full && s.seq == blocks_taken_); });
      --consumer_waiting_;
    }
    if (closed_) return std::nullopt;
    std::optional<batch_block> block = std::move(s.block);
    const bool failed = s.error != nullptr;
    const auto [first, count] = s.range;
    s.full = false;
    s.error = nullptr;
    s.block.reset();
    ++blocks_taken_;
    taken_ += count;
    // Wake blocked workers only once half the ring is free: one wake-up per several blocks
    // instead of a context switch per block.
    const auto depth = static_cast<std::int64_t>(ring_.size());
    const bool wake = workers_waiting_ > 0 && blocks_claimed_ + (depth + 1) / 2 <= blocks_taken_ + depth;
    lock.unlock();
    if (wake) space_.notify_all();
    if (failed) return produce_here(first, count);
    return block;
  }

  void work() {
    const auto depth = static_cast<std::int64_t>(ring_.size());
    for (;;) {
      std::int64_t seq;
      std::pair<std::int64_t, std::int64_t> range;
      {
        std::unique_lock lock(mutex_);
        if (!(closed_ || next_claim_ >= end_ || blocks_claimed_ < blocks_taken_ + depth)) {
          ++workers_waiting_;
          space_.wait(lock, [&] {
            return closed_ || next_claim_ >= end_ || blocks_claimed_ + (depth + 1) / 2 <= blocks_taken_ + depth;
          });
          --workers_waiting_;
        }
        if (closed_ || next_claim_ >= end_) return;
        seq = blocks_claimed_++;
        range = claim();
      }
      std::optional<batch_block> block;
      std::exception_ptr error;
      try {
        block = produce(range.first, range.second);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        slot& s = ring_[static_cast<std::size_t>(seq % depth)];
        s.seq = seq;
        s.range = range;
        s.block = std::move(block);
        s.error = error;
        s.full = true;
        if (consumer_waiting_ == 0) continue;  // nobody to wake: skip the syscall
      }
      ready_.notify_all();
    }
  }

  std::shared_ptr<const detail::dataset_plan> plan_;
  std::shared_ptr<detail::batch_arena> arena_;
  iterator_state start_;
  std::int64_t per_epoch_;
  std::int64_t per_block_;
  std::int64_t end_ = 0;

  // The consumer's side (one thread): batches handed out, and the block being handed out.
  std::int64_t handed_;
  std::optional<batch_block> current_;
  std::int64_t cursor_ = 0;
  std::int64_t retry_next_ = 0;  // batches of a failed block, made again one by one
  std::int64_t retry_end_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable ready_;  // a slot was filled
  std::condition_variable space_;  // a slot was emptied, or closing
  std::vector<slot> ring_;
  std::int64_t taken_;              // batches in the blocks taken from the ring
  std::int64_t blocks_taken_ = 0;   // blocks taken from the ring
  std::int64_t next_claim_;         // first batch of the next block to make
  std::int64_t blocks_claimed_ = 0; // blocks claimed by workers
  bool closed_ = false;
  int consumer_waiting_ = 0;  // the consumer is blocked on ready_
  int workers_waiting_ = 0;   // workers blocked on space_
  std::vector<std::thread> workers_;
};

dataset_iterator::dataset_iterator(std::shared_ptr<const detail::dataset_plan> plan, const iterator_state& start,
                                   const prefetch_options& prefetch)
    : impl_(std::make_unique<impl>(std::move(plan), start, prefetch)) {}

dataset_iterator::~dataset_iterator() = default;

std::optional<std::vector<tensor>> dataset_iterator::next() { return impl_->next(); }
std::optional<batch_block> dataset_iterator::next_block() { return impl_->next_block(); }
iterator_state dataset_iterator::state() const { return impl_->state(); }
iterator_state dataset_iterator::state_at(std::int64_t yielded) const { return impl_->state_at(yielded); }
std::int64_t dataset_iterator::remaining() const { return impl_->remaining(); }
void dataset_iterator::close() { impl_->close(); }

}  // namespace tb
