// The iterator: worker threads produce batches into a ring of `depth` slots, the consumer takes
// them in sequence order. Batch k's content is a pure function of k, so which thread makes it
// never changes the stream; the ring bounds how far the workers run ahead.

#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include "pipeline_internal.hpp"
#include "tensorbridge/threads.hpp"

namespace tb {

void prefetch_options::validate() const {
  if (depth < 0) fail(error_kind::value, "prefetch: depth must be >= 0, got ", depth);
  if (num_threads < 0) fail(error_kind::value, "prefetch: num_threads must be >= 0 (0 = automatic), got ", num_threads);
}

class dataset_iterator::impl {
 public:
  impl(std::shared_ptr<const detail::dataset_plan> plan, const iterator_state& start, const prefetch_options& prefetch)
      : plan_(std::move(plan)),
        arena_(detail::batch_arena::create()),
        start_(start),
        per_epoch_(detail::batches_per_epoch(plan_->order)),
        consumed_(start.yielded),
        next_claim_(start.yielded) {
    const std::int64_t length = detail::iteration_length(*plan_);
    end_ = length < 0 ? std::numeric_limits<std::int64_t>::max() : length;
    const std::int64_t depth = prefetch.depth;
    if (depth > 0 && consumed_ < end_) {
      ring_.resize(static_cast<std::size_t>(depth));
      std::int64_t threads = prefetch.num_threads > 0 ? prefetch.num_threads
                                                      : std::min<std::int64_t>(depth, tb::num_threads());
      threads = std::max<std::int64_t>(1, std::min(threads, depth));
      for (std::int64_t t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
    }
  }

  ~impl() { close(); }

  std::optional<std::vector<tensor>> next() {
    if (ring_.empty()) {  // no prefetch: make the batch here
      std::lock_guard lock(mutex_);
      if (closed_ || consumed_ >= end_) return std::nullopt;
      auto batch = produce(consumed_);
      ++consumed_;
      return batch;
    }
    std::unique_lock lock(mutex_);
    if (closed_ || consumed_ >= end_) return std::nullopt;
    slot& s = ring_[static_cast<std::size_t>(consumed_ % static_cast<std::int64_t>(ring_.size()))];
    if (!(s.full && s.seq == consumed_)) {
      ++consumer_waiting_;
      ready_.wait(lock, [&] { return closed_ || (s.full && s.seq == consumed_); });
      --consumer_waiting_;
    }
    if (closed_) return std::nullopt;
    std::vector<tensor> batch = std::move(s.batch);
    std::exception_ptr error = s.error;
    s.full = false;
    s.error = nullptr;
    s.batch.clear();
    if (error) {
      // A failed batch ends the iteration: the state stays before it so that a fix can resume.
      lock.unlock();
      close();
      std::rethrow_exception(error);
    }
    ++consumed_;
    // Wake blocked workers only once half the ring is free: one wake-up per several small batches
    // instead of a context switch per batch.
    const auto depth = static_cast<std::int64_t>(ring_.size());
    const bool wake = workers_waiting_ > 0 && next_claim_ + (depth + 1) / 2 <= consumed_ + depth;
    lock.unlock();
    if (wake) space_.notify_all();
    return batch;
  }

  iterator_state state() const {
    std::lock_guard lock(mutex_);
    iterator_state s = start_;
    s.yielded = consumed_;
    s.epoch = start_.first_epoch + (per_epoch_ > 0 ? consumed_ / per_epoch_ : 0);
    s.cursor = per_epoch_ > 0 ? consumed_ % per_epoch_ : 0;
    return s;
  }

  std::int64_t remaining() const {
    std::lock_guard lock(mutex_);
    if (end_ == std::numeric_limits<std::int64_t>::max()) return -1;
    return closed_ ? 0 : end_ - consumed_;
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
    for (auto& s : ring_) s.batch.clear();  // hand buffers back now, not when the iterator dies
  }

 private:
  struct slot {
    std::int64_t seq = -1;
    bool full = false;
    std::vector<tensor> batch;
    std::exception_ptr error;
  };

  std::vector<tensor> produce(std::int64_t k) const {
    const std::int64_t epoch = start_.first_epoch + k / per_epoch_;
    return detail::make_batch(*plan_, *arena_, start_.seed, epoch, k % per_epoch_);
  }

  void work() {
    const auto depth = static_cast<std::int64_t>(ring_.size());
    for (;;) {
      std::int64_t k;
      {
        std::unique_lock lock(mutex_);
        if (!(closed_ || next_claim_ >= end_ || next_claim_ < consumed_ + depth)) {
          ++workers_waiting_;
          space_.wait(lock, [&] {
            return closed_ || next_claim_ >= end_ || next_claim_ + (depth + 1) / 2 <= consumed_ + depth;
          });
          --workers_waiting_;
        }
        if (closed_ || next_claim_ >= end_) return;
        k = next_claim_++;
      }
      std::vector<tensor> batch;
      std::exception_ptr error;
      try {
        batch = produce(k);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(mutex_);
        slot& s = ring_[static_cast<std::size_t>(k % depth)];
        s.seq = k;
        s.batch = std::move(batch);
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
  std::int64_t end_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable ready_;  // a slot was filled
  std::condition_variable space_;  // a slot was emptied, or closing
  std::vector<slot> ring_;
  std::int64_t consumed_;
  std::int64_t next_claim_;
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
iterator_state dataset_iterator::state() const { return impl_->state(); }
std::int64_t dataset_iterator::remaining() const { return impl_->remaining(); }
void dataset_iterator::close() { impl_->close(); }

}  // namespace tb
