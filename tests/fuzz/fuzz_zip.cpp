// libFuzzer target for the .npz (zip) reader: any bytes, opened as an archive, must give members or
// a tb::error, never a crash, a hang, a huge allocation or a sanitizer report. Each member is read
// both ways: read with its CRC-32 checked, and memory-mapped without (a mutated archive seldom
// keeps a right CRC, so only then do its members' data reach the .npy code).

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tensorbridge/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fd = memfd_create("fuzz_zip", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    for (bool mmap : {false, true}) {
      try {
        tb::npy_load_options options;
        options.mmap = mmap;
        options.copy_on_write = mmap;
        options.verify_crc = !mmap;
        tb::npz_reader reader(path, options);
        for (const auto& key : reader.keys()) {
          try {
            if (reader.header(key).is_structured())
              (void)reader.load_columns(key);
            else
              (void)reader.load(key).contiguous();
          } catch (const tb::error&) {
          }
        }
      } catch (const tb::error&) {
      }
    }
  }
  close(fd);
  return 0;
}
