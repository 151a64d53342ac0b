#pragma once
/// @file threads.hpp
/// The thread budget of tensorbridge's parallel kernels (casts, copies, readers).

namespace tb {

/// How many threads parallel kernels use. Default: the `TB_NUM_THREADS` environment variable if
/// set to a positive number, else every core the process may run on.
int num_threads() noexcept;

/// Sets the thread count for later calls; `n <= 0` restores the default. Threads are started
/// lazily and kept for reuse.
void set_num_threads(int n);

}  // namespace tb
