// tb::check_image and tb::check_image_files: decode every pixel once, keep nothing, and say which
// files fail. The files are checked on their own threads (an atomic cursor hands out indices);
// the calling thread reports progress. Which files fail depends only on their bytes.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "image/image_internal.hpp"
#include "tensorbridge/core/threads.hpp"
#include "tensorbridge/image/check.hpp"

namespace tb {

void check_image(std::span<const std::byte> data, const image_decode_options& options, std::string_view name) {
  options.validate();
  switch (sniff_image_format(data, name)) {
    case image_format::jpeg: detail::check_jpeg(data, options, name); break;
    case image_format::png: detail::decode_png(data, options, name); break;
    case image_format::webp: detail::decode_webp(data, options, name); break;
  }
}

namespace {

// The error kinds that make a file unusable (rather than a call invalid).
bool is_file_problem(error_kind kind) {
  return kind == error_kind::format || kind == error_kind::not_found || kind == error_kind::permission ||
         kind == error_kind::is_directory || kind == error_kind::io;
}

}  // namespace

std::vector<image_file_problem> check_image_files(std::span<const std::string> paths,
                                                  const image_check_options& options) {
  options.decode.validate();
  const auto n = static_cast<std::int64_t>(paths.size());
  std::vector<std::string> reasons(paths.size());  // empty: the file decodes
  std::atomic<std::int64_t> cursor{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr first_error;
  int running = static_cast<int>(std::clamp<std::int64_t>(
      options.num_threads > 0 ? options.num_threads : num_threads(), 1, std::max<std::int64_t>(n, 1)));
  const auto work = [&] {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::int64_t i = cursor.fetch_add(1);
      if (i >= n) break;
      const std::string& path = paths[static_cast<std::size_t>(i)];
      try {
        check_image(read_file_bytes(path, options.storage), options.decode, path);
      } catch (const error& e) {
        if (!is_file_problem(e.kind())) {
          std::lock_guard lock(mutex);
          if (!first_error) first_error = std::current_exception();
          stop = true;
        }
        reasons[static_cast<std::size_t>(i)] = e.what();
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!first_error) first_error = std::current_exception();
        stop = true;
      }
      done.fetch_add(1, std::memory_order_relaxed);
    }
    std::lock_guard lock(mutex);
    if (--running == 0) finished.notify_one();
  };
  std::vector<std::jthread> threads;
  const int count = running;
  for (int t = 0; t < count; ++t) threads.emplace_back(work);
  try {
    std::unique_lock lock(mutex);
    while (!finished.wait_for(lock, std::chrono::milliseconds(250), [&] { return running == 0; })) {
      if (!options.progress) continue;
      lock.unlock();
      options.progress(done.load(), n);
      lock.lock();
    }
  } catch (...) {
    stop = true;
    threads.clear();  // joins
    throw;
  }
  threads.clear();
  if (first_error) std::rethrow_exception(first_error);
  if (options.progress) options.progress(n, n);
  std::vector<image_file_problem> problems;
  for (std::int64_t i = 0; i < n; ++i)
    if (!reasons[static_cast<std::size_t>(i)].empty())
      problems.push_back({i, paths[static_cast<std::size_t>(i)], std::move(reasons[static_cast<std::size_t>(i)])});
  return problems;
}

}  // namespace tb
