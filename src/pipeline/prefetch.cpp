// The iterator: worker threads produce blocks of consecutive batches into a queue of at most
// `depth` slots, the consumer takes them in sequence order. Batch k's content is a pure function of k,
// so which thread makes it, and in which block, never changes the stream; the ring bounds how
// far the workers run ahead.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <utility>
#include <thread>

#include "pipeline/pipeline_internal.hpp"
#include "tensorbridge/core/threads.hpp"

namespace tb {

void prefetch_options::validate() const {
  if (buffer_size < 0 && buffer_size != autotune)
    fail(error_kind::value, "prefetch: buffer_size (depth) must be >= 0 blocks or AUTOTUNE (-1), got ", buffer_size,
         "; 0 makes each block in next()");
  if ((num_threads < 0 && num_threads != autotune) || num_threads > max_threads)
    fail(error_kind::value, "prefetch: num_threads must be in [1, ", max_threads,
         "] (or 0 / None: automatic, or AUTOTUNE (-1)), got ", num_threads);
  if (block_bytes < 0)
    fail(error_kind::value, "prefetch: block_bytes must be >= 0, got ", block_bytes, "; 0 makes every block one batch");
}

prefetch_options prefetch_options::resolve(std::int64_t block_size) const {
  prefetch_options out = *this;
  const std::int64_t hardware = std::max<std::int64_t>(1, tb::num_threads());
  const std::int64_t threads = num_threads == autotune ? hardware : (num_threads > 0 ? num_threads : hardware);
  if (buffer_size == autotune) {
    // Up to four blocks per worker: enough that every worker has a free slot while the consumer
    // holds one and a slow training step is absorbed; big blocks get fewer, so that the ring
    // stays within the memory budget, but never fewer than two (one filling, one handed over).
    const std::int64_t fits = autotune_bytes / std::max<std::int64_t>(1, block_size);
    out.buffer_size = std::clamp<std::int64_t>(fits, 2, std::max<std::int64_t>(2, 4 * threads));
  }
  if (num_threads == autotune) out.num_threads = std::max<std::int64_t>(1, std::min(hardware, out.buffer_size));
  return out;
}

void iteration_part::validate() const {
  if (count < 1) fail(error_kind::value, "iteration part: count must be at least 1, got ", count);
  if (index < 0 || index >= count)
    fail(error_kind::value, "iteration part: index ", index, " is out of range for count=", count, "; pass an index in [0, ",
         count - 1, "]");
}

// Positions (handed_, taken_, next_claim_, end_, block.first) count this iterator's batches; for a
// part, position j is batch index + j * count of the iteration (stride_, offset_).
class dataset_iterator::impl {
 public:
  impl(std::shared_ptr<const detail::dataset_plan> plan, const iterator_state& start, const prefetch_options& prefetch,
       const iteration_part& part)
      : plan_(std::move(plan)),
        arena_(detail::batch_arena::create()),
        start_(start),
        per_epoch_(detail::batches_per_epoch(plan_->order)),
        per_block_(part.count > 1 ? 1 : detail::batches_per_block(*plan_, prefetch.block_bytes)),
        stride_(part.count),
        offset_(part.index),
        handed_(start.yielded),
        taken_(start.yielded),
        next_claim_(start.yielded) {
    const std::int64_t length = detail::iteration_length(*plan_);
    end_ = length < 0 ? std::numeric_limits<std::int64_t>::max() : length;
    if (stride_ > 1 && length >= 0)  // this part's batches among the iteration's
      end_ = length > offset_ ? (length - offset_ - 1) / stride_ + 1 : 0;
    depth_ = prefetch.buffer_size;
    if (depth_ > 0 && taken_ < end_) {
      // No more threads than blocks left to make: a huge depth or a short iteration starts few.
      const std::int64_t blocks = (end_ - taken_) / per_block_ + 1;
      std::int64_t threads = prefetch.num_threads > 0 ? prefetch.num_threads
                                                      : std::min<std::int64_t>(depth_, tb::num_threads());
      threads = std::max<std::int64_t>(1, std::min({threads, depth_, blocks}));
      for (std::int64_t t = 0; t < threads; ++t)
        workers_.emplace_back([this, several = threads > 1] {
          detail::one_of_several_producers = several;
          work();
        });
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

  // A part's blocks hold one batch each (per_block_ is 1): its batches are not consecutive.
  batch_block produce(std::int64_t first, std::int64_t count) const {
    const std::int64_t batch = offset_ + first * stride_;  // in the iteration
    const std::int64_t epoch = start_.first_epoch + batch / per_epoch_;
    batch_block block = detail::make_block(*plan_, *arena_, start_.seed, epoch, batch % per_epoch_, count);
    block.first = first;
    return block;
  }

  // Makes a block on the consumer's thread. When a block fails, its batches are made again one
  // by one, so that the good batches before the bad one are still delivered and the error names
  // the bad batch. The failed batch and the rest of its block stay queued in [retry_next_,
  // retry_end_): the iteration stands just before the failed batch (state() counts only what was
  // delivered), and the next call makes that batch again, raising again if the failure lasts.
  batch_block produce_here(std::int64_t first, std::int64_t count) {
    if (count > 1) {
      try {
        return produce(first, count);
      } catch (...) {
      }
    }
    retry_next_ = first;
    retry_end_ = first + count;
    return produce_retry();
  }

  batch_block produce_retry() {
    batch_block block = produce(retry_next_, 1);
    ++retry_next_;
    return block;
  }

  std::optional<batch_block> take_block() {
    std::unique_lock lock(mutex_);
    if (closed_) return std::nullopt;
    if (retry_next_ < retry_end_) {
      lock.unlock();
      return produce_retry();
    }
    if (taken_ >= end_) return std::nullopt;
    if (workers_.empty()) {  // no prefetch: make the block here
      auto [first, count] = claim();
      taken_ += count;
      lock.unlock();
      return produce_here(first, count);
    }
    const auto front_ready = [&] { return !ring_.empty() && ring_.front().full; };
    if (!front_ready()) {
      ++consumer_waiting_;
      ready_.wait(lock, [&] { return closed_ || front_ready(); });
      --consumer_waiting_;
    }
    if (closed_) return std::nullopt;
    std::optional<batch_block> block = std::move(ring_.front().block);
    const bool failed = ring_.front().error != nullptr;
    const auto [first, count] = ring_.front().range;
    ring_.pop_front();
    ++blocks_taken_;
    taken_ += count;
    // Wake blocked workers only once half the ring is free: one wake-up per several blocks
    // instead of a context switch per block.
    const std::int64_t depth = depth_;
    const bool wake = workers_waiting_ > 0 && blocks_claimed_ + (depth + 1) / 2 <= blocks_taken_ + depth;
    lock.unlock();
    if (wake) space_.notify_all();
    if (failed) return produce_here(first, count);
    return block;
  }

  void work() {
    const std::int64_t depth = depth_;
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
        ring_.emplace_back();  // slot seq: claims are made in order, under the lock
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
        // The consumer pops slots only once they are full, so this one is still queued; a deque
        // keeps references to its elements valid across push_back and pop_front.
        slot& s = ring_[static_cast<std::size_t>(seq - blocks_taken_)];
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
  std::int64_t stride_;   // iteration_part::count
  std::int64_t offset_;   // iteration_part::index
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
  std::int64_t depth_ = 0;         // blocks made ahead at most (prefetch_options::buffer_size)
  std::deque<slot> ring_;           // blocks claimed and not yet taken, the oldest first: memory
                                    // follows the blocks in flight, never the depth asked for
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
                                   const prefetch_options& prefetch, const iteration_part& part)
    : impl_(std::make_unique<impl>(std::move(plan), start, prefetch, part)) {}

dataset_iterator::~dataset_iterator() = default;

std::optional<std::vector<tensor>> dataset_iterator::next() { return impl_->next(); }
std::optional<batch_block> dataset_iterator::next_block() { return impl_->next_block(); }
iterator_state dataset_iterator::state() const { return impl_->state(); }
iterator_state dataset_iterator::state_at(std::int64_t yielded) const { return impl_->state_at(yielded); }
std::int64_t dataset_iterator::remaining() const { return impl_->remaining(); }
void dataset_iterator::close() { impl_->close(); }

}  // namespace tb
