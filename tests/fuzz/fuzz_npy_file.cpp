// libFuzzer target for the whole .npy file path (tb::load_npy, tb::load_npy_columns): header and
// data read from a file, by pread and by memory map, must give a tensor, columns or a tb::error,
// never a crash, a hang or a sanitizer report. The first byte picks the options; the rest is the
// file.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tensorbridge/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t flags = data[0];
  int fd = memfd_create("fuzz_npy_file", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data + 1, size - 1) == static_cast<ssize_t>(size - 1)) {
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    tb::npy_load_options o;
    o.mmap = flags & 1;
    o.copy_on_write = o.mmap && (flags & 2);
    o.keep_byte_order = flags & 4;
    o.void2_as_bfloat16 = flags & 8;
    o.max_header_size = (flags & 16) ? 200 : std::size_t{1} << 16;
    try {
      if (tb::read_npy_header(path, o).is_structured()) {
        for (auto& c : tb::load_npy_columns(path, o)) (void)c.values.contiguous();
      } else {
        tb::tensor t = tb::load_npy(path, o);
        // Touch every element: a view past the data would show here.
        (void)t.copy();
      }
    } catch (const tb::error&) {
    }
  }
  close(fd);
  return 0;
}
