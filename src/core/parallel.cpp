#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/parallel_internal.hpp"
#include "tensorbridge/core/threads.hpp"

namespace tb {
namespace {

int default_threads() {
  if (const char* env = std::getenv("TB_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::atomic<int> requested_threads{0};
thread_local bool inside_pool = false;

// How long a thread waits actively (spinning) for work or for the other chunks of a loop before it
// sleeps. Waking a sleeping thread costs tens of microseconds on virtual machines, as much as a cast
// of a few MiB: back-to-back parallel calls (a cast per batch, a gather per batch) keep the workers
// hot instead, as OpenMP runtimes do. Bounded, so an idle process stops using the cores at once.
constexpr auto spin_budget = std::chrono::microseconds(100);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until `ready()` or the spin budget is spent; returns `ready()`.
template <class Ready>
bool spin_until(Ready&& ready) {
  const auto deadline = std::chrono::steady_clock::now() + spin_budget;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

class pool {
 public:
  static pool& instance() {
    // Leaked on purpose: joining threads during static destruction at interpreter exit hangs.
    static pool* p = new pool();
    return *p;
  }

  void ensure_workers(int n) {
    std::lock_guard lock(mutex_);
    while (static_cast<int>(workers_.size()) < n) {
      workers_.emplace_back([this] { run(); });
      workers_.back().detach();
    }
  }

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
      queued_.fetch_add(1, std::memory_order_relaxed);
    }
    ready_.notify_one();
  }

 private:
  void run() {
    inside_pool = true;
    for (;;) {
      spin_until([this] { return queued_.load(std::memory_order_relaxed) > 0; });
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::atomic<std::size_t> queued_{0};  // jobs_.size(), readable without the lock while spinning
  std::vector<std::thread> workers_;
};

}  // namespace

int num_threads() noexcept {
  int n = requested_threads.load(std::memory_order_relaxed);
  if (n > 0) return n;
  static const int fallback = default_threads();
  return fallback;
}

void set_num_threads(int n) { requested_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }

namespace detail {

void parallel_for(std::int64_t n, std::int64_t min_chunk,
                  const std::function<void(std::int64_t, std::int64_t)>& body) {
  if (n <= 0) return;
  std::int64_t chunks = std::min<std::int64_t>(num_threads(), n / std::max<std::int64_t>(min_chunk, 1));
  if (chunks <= 1 || inside_pool) {
    body(0, n);
    return;
  }
  pool::instance().ensure_workers(static_cast<int>(chunks - 1));

  std::mutex mutex;
  std::condition_variable done;
  std::atomic<std::int64_t> pending{chunks - 1};
  std::exception_ptr first_error;
  auto run_chunk = [&](std::int64_t c) {
    std::int64_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    try {
      body(begin, end);
    } catch (...) {
      std::lock_guard lock(mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
  for (std::int64_t c = 1; c < chunks; ++c) {
    pool::instance().submit([&, c] {
      run_chunk(c);
      // Under the lock, so the caller (who takes it before returning) cannot destroy `mutex` and
      // `done` while this chunk still uses them.
      std::lock_guard lock(mutex);
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) done.notify_one();
    });
  }
  run_chunk(0);
  spin_until([&] { return pending.load(std::memory_order_acquire) == 0; });
  std::unique_lock lock(mutex);
  done.wait(lock, [&] { return pending.load(std::memory_order_acquire) == 0; });
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace detail
}  // namespace tb
