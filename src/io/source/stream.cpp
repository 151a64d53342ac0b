// Sequential streams over byte sources, reading ahead (see stream_internal.hpp).
#include <algorithm>
#include <cstring>
#include <future>
#include <vector>

#include "io/source/stream_internal.hpp"

namespace tb::detail {

namespace {

class read_ahead_stream final : public byte_stream {
 public:
  read_ahead_stream(std::unique_ptr<byte_source> source, const storage_options& options)
      : source_(std::move(source)),
        batch_(std::max<std::size_t>(1, options.part_size * static_cast<std::size_t>(options.concurrency))),
        size_(source_->size()) {
    fetch_next();
  }
  ~read_ahead_stream() override {
    if (next_.valid()) next_.wait();
  }
  std::size_t read(std::byte* out, std::size_t n) override {
    if (at_ == current_.size()) {
      if (!next_.valid()) return 0;
      current_ = next_.get();
      at_ = 0;
      fetch_next();
      if (current_.empty()) return 0;
    }
    n = std::min(n, current_.size() - at_);
    std::memcpy(out, current_.data() + at_, n);
    at_ += n;
    return n;
  }
  const std::string& where() const override { return source_->where(); }

 private:
  // Starts downloading the next batch (its parts in parallel) while the current one is consumed.
  void fetch_next() {
    if (fetched_ >= size_) return;
    const std::uint64_t lo = fetched_;
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(batch_, size_ - lo));
    fetched_ += len;
    next_ = std::async(std::launch::async, [this, lo, len] {
      std::vector<std::byte> bytes(len);
      source_->read_at(bytes.data(), len, lo);
      return bytes;
    });
  }

  std::unique_ptr<byte_source> source_;
  std::size_t batch_;
  std::uint64_t size_;
  std::uint64_t fetched_ = 0;
  std::vector<std::byte> current_;
  std::size_t at_ = 0;
  std::future<std::vector<std::byte>> next_;
};

}  // namespace

std::unique_ptr<byte_stream> source_stream(std::unique_ptr<byte_source> source, const storage_options& options) {
  return std::make_unique<read_ahead_stream>(std::move(source), options);
}

std::unique_ptr<byte_stream> open_path_stream(const std::string& path, const storage_options& options) {
  if (!is_remote_path(path)) return open_file_stream(path);
  return source_stream(open_source(path, options), options);
}

}  // namespace tb::detail
