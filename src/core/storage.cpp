#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tensorbridge/tensor.hpp"

namespace tb {
namespace {

std::atomic<std::int64_t> live_storages{0};

constexpr std::size_t huge_page = std::size_t{1} << 21;

std::byte* allocate_aligned(std::size_t nbytes) {
  // Large blocks start on a huge-page boundary and ask for transparent huge pages: fewer page
  // faults on first touch is most of the cost of a fresh output buffer.
  std::size_t align = nbytes >= 4 * huge_page ? huge_page : buffer_alignment;
  std::size_t size = (std::max<std::size_t>(nbytes, 1) + align - 1) / align * align;
  void* p = std::aligned_alloc(align, size);
  if (p == nullptr)
    fail(error_kind::value, "out of memory: cannot allocate ", nbytes, " bytes for a tensor buffer");
  if (align == huge_page) madvise(p, size, MADV_HUGEPAGE);
  return static_cast<std::byte*>(p);
}

}  // namespace

storage::storage(std::byte* data, std::size_t nbytes, bool owned, std::function<void()> release)
    : data_(data), nbytes_(nbytes), owned_(owned), release_(std::move(release)) {
  live_storages.fetch_add(1, std::memory_order_relaxed);
}

storage::~storage() {
  if (owned_) std::free(data_);
  if (release_) release_();
  live_storages.fetch_sub(1, std::memory_order_relaxed);
}

std::shared_ptr<storage> storage::allocate(std::size_t nbytes) {
  std::byte* p = allocate_aligned(nbytes);
  return std::shared_ptr<storage>(new storage(p, nbytes, true, {}));
}

std::shared_ptr<storage> storage::wrap(void* data, std::size_t nbytes, std::function<void()> release) {
  return std::shared_ptr<storage>(new storage(static_cast<std::byte*>(data), nbytes, false, std::move(release)));
}

std::int64_t storage::live_count() noexcept { return live_storages.load(std::memory_order_relaxed); }

}  // namespace tb
