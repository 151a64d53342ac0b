#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "tensorbridge/core/block_cache.hpp"
#include "tensorbridge/core/tensor.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TB_ASAN 1
#endif
#endif
#if TB_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace tb {
namespace {

std::atomic<std::int64_t> live_storages{0};

constexpr std::size_t huge_page = std::size_t{1} << 21;

// Blocks of at least this many bytes start on a huge-page boundary and ask for transparent huge
// pages: one fault per 2 MiB instead of per 4 KiB is most of the cost of touching a new buffer.
constexpr std::size_t huge_page_threshold = 4 * huge_page;

// The bytes actually reserved for a request of `nbytes`. Cacheable sizes are rounded up to one of
// four classes per power of two, so requests of nearby sizes (the last, shorter batch of an
// epoch; a CSV chunk) share blocks at a cost of at most 25% of address space.
std::size_t capacity_of(std::size_t nbytes) {
  if (nbytes < block_cache_min_bytes)
    return (std::max<std::size_t>(nbytes, 1) + buffer_alignment - 1) / buffer_alignment * buffer_alignment;
  const int log2 = 63 - __builtin_clzll(static_cast<unsigned long long>(nbytes));
  const std::size_t step = (std::size_t{1} << log2) / 4;
  return (nbytes + step - 1) / step * step;
}

std::size_t alignment_of(std::size_t capacity) {
  return capacity >= huge_page_threshold ? huge_page : buffer_alignment;
}

std::byte* allocate_block(std::size_t capacity) {
  const std::size_t align = alignment_of(capacity);
  void* p = std::aligned_alloc(align, capacity);
  if (p == nullptr)
    fail(error_kind::value, "out of memory: cannot allocate ", capacity, " bytes for a tensor buffer");
  if (align == huge_page) madvise(p, capacity, MADV_HUGEPAGE);
  return static_cast<std::byte*>(p);
}

void poison(std::byte* p, std::size_t n) noexcept {
#if TB_ASAN
  // A dangling pointer into a cached block then reports as a use-after-free, as it would have
  // without the cache.
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

void unpoison(std::byte* p, std::size_t n) noexcept {
#if TB_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p, (void)n;
#endif
}

// Parses TB_BLOCK_CACHE_BYTES: digits, then an optional K/M/G/T (powers of 1024) and "B"/"iB".
bool parse_bytes(std::string_view text, std::size_t& out) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return false;
  std::string unit(end, text.data() + text.size());
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (!unit.empty() && std::string_view("KMGT").find(unit[0]) != std::string_view::npos) {
    shift = 10 * (1 + static_cast<int>(std::string_view("KMGT").find(unit[0])));
    unit.erase(0, 1);
    if (unit == "IB" || unit == "B") unit.clear();
  } else if (unit == "B") {
    unit.clear();
  }
  if (!unit.empty() || (shift > 0 && value > (~std::uint64_t{0} >> shift))) return false;
  out = static_cast<std::size_t>(value << shift);
  return true;
}

struct cached_block {
  std::byte* data;
  std::size_t capacity;
};

class block_cache {
 public:
  // Leaked on purpose: storages may be destroyed during static destruction (Python's exit).
  static block_cache& instance() {
    static block_cache* cache = new block_cache();
    return *cache;
  }

  std::size_t limit() {
    std::lock_guard lock(mutex_);
    if (!env_error_.empty()) fail(error_kind::value, env_error_);
    return limit_;
  }

  // A cached block of exactly `capacity` bytes (the most recently freed, whose pages and TLB
  // entries are the likeliest to be warm), or nullptr.
  std::byte* take(std::size_t capacity) {
    std::lock_guard lock(mutex_);
    if (!env_error_.empty()) fail(error_kind::value, env_error_);
    for (std::size_t i = blocks_.size(); i-- > 0;) {
      if (blocks_[i].capacity != capacity) continue;
      std::byte* p = blocks_[i].data;
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
      cached_bytes_ -= capacity;
      ++hits_;
      unpoison(p, capacity);
      return p;
    }
    if (limit_ > 0) ++misses_;
    return nullptr;
  }

  // Keeps a freed block for reuse, or frees it. The system's free (an munmap for large blocks,
  // which releases every page) runs outside the lock, one evicted block at a time.
  void give(std::byte* p, std::size_t capacity) noexcept {
    for (;;) {
      cached_block victim{nullptr, 0};
      {
        std::lock_guard lock(mutex_);
        if (capacity > limit_) break;
        if (cached_bytes_ + capacity <= limit_) {
          try {
            blocks_.push_back({p, capacity});
          } catch (const std::bad_alloc&) {
            break;
          }
          cached_bytes_ += capacity;
          poison(p, capacity);
          return;
        }
        victim = blocks_.front();
        blocks_.erase(blocks_.begin());
        cached_bytes_ -= victim.capacity;
      }
      unpoison(victim.data, victim.capacity);
      std::free(victim.data);
    }
    std::free(p);
  }

  void set_limit(std::size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      limit_ = bytes;
      env_error_.clear();
    }
    trim_to(bytes);
  }

  void trim_to(std::size_t bytes) {
    for (;;) {
      cached_block victim;
      {
        std::lock_guard lock(mutex_);
        if (cached_bytes_ <= bytes || blocks_.empty()) return;
        victim = blocks_.front();
        blocks_.erase(blocks_.begin());
        cached_bytes_ -= victim.capacity;
      }
      unpoison(victim.data, victim.capacity);
      std::free(victim.data);
    }
  }

  block_cache_stats stats() {
    std::lock_guard lock(mutex_);
    return {limit_, cached_bytes_, blocks_.size(), hits_, misses_};
  }

 private:
  block_cache() {
    if (const char* env = std::getenv("TB_BLOCK_CACHE_BYTES"); env != nullptr && *env != '\0') {
      if (!parse_bytes(env, limit_)) {
        limit_ = 0;  // nothing is cached while every large allocation reports the bad value
        env_error_ = std::string("TB_BLOCK_CACHE_BYTES=\"") + env +
                     "\" is not a byte count; set it to a number of bytes with an optional K, M or G suffix "
                     "(e.g. 536870912 or 512M), or to 0 to disable the block cache";
      }
    }
    blocks_.reserve(64);
    // A child forked while another thread held the lock would deadlock on its first allocation.
    pthread_atfork([] { instance().mutex_.lock(); }, [] { instance().mutex_.unlock(); },
                   [] { instance().mutex_.unlock(); });
  }

  std::mutex mutex_;
  std::vector<cached_block> blocks_;  // least recently freed first
  std::size_t cached_bytes_ = 0;
  std::size_t limit_ = default_block_cache_limit;
  std::uint64_t hits_ = 0, misses_ = 0;
  std::string env_error_;  // a malformed TB_BLOCK_CACHE_BYTES, reported by the next large allocation
};

}  // namespace

std::size_t block_cache_limit() { return block_cache::instance().limit(); }

void set_block_cache_limit(std::size_t bytes) { block_cache::instance().set_limit(bytes); }

void clear_block_cache() { block_cache::instance().trim_to(0); }

block_cache_stats block_cache_statistics() { return block_cache::instance().stats(); }

storage::storage(std::byte* data, std::size_t nbytes, bool owned, std::function<void()> release)
    : data_(data), nbytes_(nbytes), owned_(owned), release_(std::move(release)) {
  live_storages.fetch_add(1, std::memory_order_relaxed);
}

storage::~storage() {
  if (owned_) {
    const std::size_t capacity = capacity_of(nbytes_);
    if (capacity >= block_cache_min_bytes) block_cache::instance().give(data_, capacity);
    else std::free(data_);
  }
  if (release_) release_();
  live_storages.fetch_sub(1, std::memory_order_relaxed);
}

std::shared_ptr<storage> storage::allocate(std::size_t nbytes) {
  if (nbytes > (~std::size_t{0} >> 2))  // rounding up to a size class must not wrap around
    fail(error_kind::value, "out of memory: cannot allocate ", nbytes, " bytes for a tensor buffer");
  const std::size_t capacity = capacity_of(nbytes);
  std::byte* p = capacity >= block_cache_min_bytes ? block_cache::instance().take(capacity) : nullptr;
  if (p == nullptr) p = allocate_block(capacity);
  try {
    return std::shared_ptr<storage>(new storage(p, nbytes, true, {}));
  } catch (...) {
    std::free(p);
    throw;
  }
}

std::shared_ptr<storage> storage::wrap(void* data, std::size_t nbytes, std::function<void()> release) {
  return std::shared_ptr<storage>(new storage(static_cast<std::byte*>(data), nbytes, false, std::move(release)));
}

std::shared_ptr<storage> storage::map_private_copy() const {
  const file_mapping& m = mapping_;
  if (m.base == nullptr || !m.shared_read_only || m.fd < 0) return nullptr;
  // MAP_NORESERVE: pages are charged to the commit limit only when written, so a map larger
  // than memory can still be handed out (as the shared map it mirrors could).
  void* base = ::mmap(nullptr, m.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, m.fd,
                      static_cast<off_t>(m.file_offset));
  if (base == MAP_FAILED) return nullptr;
  const std::size_t length = m.length;
  std::byte* data = static_cast<std::byte*>(base) + (data_ - static_cast<std::byte*>(m.base));
  std::shared_ptr<storage> s;
  try {
    s = wrap(data, nbytes_, [base, length] { ::munmap(base, length); });
    s->mapping_ = file_mapping{.base = base, .length = length, .shared_read_only = false, .fd = -1,
                               .file_offset = m.file_offset, .source = m.source};
  } catch (...) {
    if (!s) ::munmap(base, length);
    throw;
  }
  return s;
}

std::int64_t storage::live_count() noexcept { return live_storages.load(std::memory_order_relaxed); }

}  // namespace tb
