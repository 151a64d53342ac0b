// JPEG through libjpeg-turbo's libjpeg API (jpeglib.h), which also gives DCT scaling and the
// crop/skip-scanline calls the fused image ops use.
//
// libjpeg reports a fatal error by calling error_exit, which must not return. We longjmp back to
// the one setjmp in `guarded`, whose callee frames (lambdas below) hold only trivially
// destructible locals, so nothing is skipped that needs destroying; every C++ allocation happens
// between guarded calls, and libjpeg's own memory is freed by jpeg_destroy_decompress in the
// reader's destructor.

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

#include "image/image_internal.hpp"

namespace tb::detail {

namespace {

struct error_state {
  jpeg_error_mgr mgr;  // first: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

extern "C" void on_jpeg_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<error_state*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// libjpeg "warnings" that mean the compressed data is damaged: it goes on with gray or garbled
// blocks where Pillow and OpenCV accept the file. Here they are errors, so that a file decodes to
// the pixels it stores or not at all (and on_error="skip" leaves out every damaged file). Running
// out of data (a truncated file) gets its own message. Other warnings (an unknown JFIF revision or
// Adobe transform code, a bad ICC marker, padding before the end marker) leave the pixels intact
// and are tolerated.
bool damages_pixels(const jpeg_error_mgr& err) {
  const int code = err.msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_NOT_SEQUENTIAL || code == JWRN_BOGUS_PROGRESSION) return true;
  if (code == JWRN_BOGUS_ICC) return false;  // metadata only
  // Padding between the last scan and the end marker (some cameras and editors write it; about a
  // dozen ImageNet training files have it): every pixel was decoded already.
  if (code == JWRN_EXTRANEOUS_DATA && err.msg_parm.i[1] == 0xD9) return false;
  // "Corrupt JPEG data: ...": a bad Huffman or arithmetic code, a premature end of a data segment,
  // extraneous bytes before a marker, a restart marker missing.
  const char* text = code > 0 && code <= err.last_jpeg_message ? err.jpeg_message_table[code] : nullptr;
  return text != nullptr && std::strncmp(text, "Corrupt JPEG data", 17) == 0;
}

extern "C" void on_jpeg_message(j_common_ptr cinfo, int level) {
  auto* e = reinterpret_cast<error_state*>(cinfo->err);
  if (level == -1 && damages_pixels(*cinfo->err)) {
    e->truncated = cinfo->err->msg_code == JWRN_JPEG_EOF;
    (*cinfo->err->format_message)(cinfo, e->message);
    std::longjmp(e->jump, 1);
  }
}

class jpeg_reader {
 public:
  jpeg_reader(std::span<const std::byte> data, std::string_view name) : name_(name) {
    cinfo_.err = jpeg_std_error(&err_.mgr);
    err_.mgr.error_exit = on_jpeg_error;
    err_.mgr.emit_message = on_jpeg_message;
    err_.message[0] = '\0';
    err_.truncated = false;
    run([this, data] {
      jpeg_create_decompress(&cinfo_);
      jpeg_mem_src(&cinfo_, reinterpret_cast<const unsigned char*>(data.data()),
                   static_cast<unsigned long>(data.size()));
    });
    created_ = true;
  }
  ~jpeg_reader() {
    if (created_) jpeg_destroy_decompress(&cinfo_);
  }
  jpeg_reader(const jpeg_reader&) = delete;
  jpeg_reader& operator=(const jpeg_reader&) = delete;

  // Runs `f` (libjpeg calls only, no C++ objects with destructors) and turns a libjpeg error
  // into a tb::error naming the file.
  template <class F>
  void run(F&& f) {
    if (!guarded(f)) {
      if (err_.truncated)
        fail(error_kind::format, name_, ": truncated JPEG: the data ends before the image does (",
             err_.message, "); the file was cut short, download or copy it again");
      std::string_view what = err_.message;
      constexpr std::string_view prefix = "Corrupt JPEG data: ";
      if (what.starts_with(prefix)) {
        what.remove_prefix(prefix.size());
        fail(error_kind::format, name_, ": corrupt JPEG: ", what,
             "; its compressed data is damaged, download or copy the file again");
      }
      fail(error_kind::format, name_, ": corrupt JPEG: ", what);
    }
  }

  void read_header(bool save_exif) {
    run([this, save_exif] {
      if (save_exif) jpeg_save_markers(&cinfo_, JPEG_APP0 + 1, 0xffff);
      jpeg_read_header(&cinfo_, TRUE);
    });
  }

  // The EXIF orientation of the saved APP1 markers (1 when none).
  int orientation() const {
    for (jpeg_saved_marker_ptr m = cinfo_.marker_list; m != nullptr; m = m->next) {
      if (m->marker != JPEG_APP0 + 1 || m->data_length < 6 || std::memcmp(m->data, "Exif\0\0", 6) != 0) continue;
      return exif_orientation(std::as_bytes(std::span(m->data + 6, m->data_length - 6)));
    }
    return 1;
  }

  jpeg_decompress_struct cinfo_{};
  error_state err_{};

 private:
  template <class F>
  bool guarded(F& f) {
    if (setjmp(err_.jump) != 0) return false;
    f();
    return true;
  }

  std::string_view name_;
  bool created_ = false;
};

// Channels of the stored image (1 gray, 3 color, 4 CMYK/YCCK), or a format error.
int stored_channels(const jpeg_decompress_struct& c, std::string_view name) {
  switch (c.jpeg_color_space) {
    case JCS_GRAYSCALE: return 1;
    case JCS_CMYK:
    case JCS_YCCK: return 4;
    default: break;
  }
  if (c.num_components == 3) return 3;
  fail(error_kind::format, name, ": unsupported JPEG: ", c.num_components,
       " color components (tensorbridge reads grayscale, YCbCr/RGB and CMYK/YCCK JPEGs)");
}

}  // namespace

image_info jpeg_info(std::span<const std::byte> data, std::string_view name) {
  jpeg_reader r(data, name);
  r.read_header(true);
  image_info info;
  info.format = image_format::jpeg;
  info.width = r.cinfo_.image_width;
  info.height = r.cinfo_.image_height;
  info.channels = stored_channels(r.cinfo_, name);
  info.orientation = r.orientation();
  return info;
}

jpeg_region decode_jpeg(std::span<const std::byte> data, const image_decode_options& options, std::string_view name,
                        const jpeg_region_request& request) {
  jpeg_reader r(data, name);
  jpeg_decompress_struct& c = r.cinfo_;
  r.read_header(false);
  check_image_size(c.image_width, c.image_height, options.max_pixels, "JPEG", name);
  const int stored = stored_channels(c, name);

  // Decode straight into the requested channels where libjpeg's conversion equals Pillow's;
  // otherwise decode RGB (or CMYK) and convert after.
  image_mode after = options.mode;
  if (stored == 4) {
    c.out_color_space = JCS_CMYK;
  } else if (stored == 1) {
    c.out_color_space = options.mode == image_mode::rgb    ? JCS_RGB
                        : options.mode == image_mode::rgba ? JCS_EXT_RGBA
                                                           : JCS_GRAYSCALE;
    after = image_mode::unchanged;
  } else {
    c.out_color_space = options.mode == image_mode::rgba ? JCS_EXT_RGBA : JCS_RGB;
    if (options.mode != image_mode::l) after = image_mode::unchanged;
  }

  const bool whole = request.width <= 0;
  const std::int64_t rx = whole ? 0 : request.x, ry = whole ? 0 : request.y;
  const std::int64_t rw = whole ? c.image_width : request.width, rh = whole ? c.image_height : request.height;
  if (rx < 0 || ry < 0 || rw < 1 || rh < 1 || rx + rw > c.image_width || ry + rh > c.image_height)
    fail(error_kind::value, name, ": region x=", rx, " y=", ry, " width=", rw, " height=", rh,
         " is outside the ", c.image_width, "x", c.image_height, " image");
  const int num = std::clamp(request.scale_num, 1, 8);
  c.scale_num = static_cast<unsigned>(num);
  c.scale_denom = 8;

  // Region bounds in scaled pixels: the smallest whole rows/columns covering the region.
  const std::int64_t sx0 = rx * num / 8, sy0 = ry * num / 8;
  const std::int64_t sx1 = (std::min<std::int64_t>)((rx + rw) * num / 8 + ((rx + rw) * num % 8 != 0),
                                                    (c.image_width * num + 7) / 8);
  const std::int64_t sy1 = (std::min<std::int64_t>)((ry + rh) * num / 8 + ((ry + rh) * num % 8 != 0),
                                                    (c.image_height * num + 7) / 8);
  JDIMENSION xoffset = static_cast<JDIMENSION>(sx0), xwidth = static_cast<JDIMENSION>(sx1 - sx0);
  r.run([&c, whole, &xoffset, &xwidth] {
    jpeg_start_decompress(&c);
    if (!whole && (xoffset > 0 || xwidth < c.output_width)) jpeg_crop_scanline(&c, &xoffset, &xwidth);
  });
  if (whole) {
    xoffset = 0;
    xwidth = c.output_width;
  }
  const std::int64_t rows = whole ? c.output_height : sy1 - sy0;
  const std::int64_t first = whole ? 0 : sy0;
  const std::int64_t cols = c.output_width;  // after jpeg_crop_scanline, the cropped width
  const std::int64_t comps = c.output_components;
  tensor out = tensor::empty({rows, cols, comps}, dtype::uint8);
  auto* base = static_cast<JSAMPLE*>(out.data());
  const std::size_t stride = static_cast<std::size_t>(cols * comps);
  r.run([&c, base, stride, rows, first] {
    if (first > 0) jpeg_skip_scanlines(&c, static_cast<JDIMENSION>(first));
    JDIMENSION done = 0;
    while (done < static_cast<JDIMENSION>(rows)) {
      JSAMPROW row = base + done * stride;
      done += jpeg_read_scanlines(&c, &row, 1);
    }
  });
  // jpeg_finish_decompress would insist on the remaining rows; the reader's destructor frees all.

  jpeg_region result;
  result.scale_num = num;
  result.x0 = static_cast<std::int64_t>(xoffset);
  result.y0 = first;
  if (stored == 4) {
    if (options.mode == image_mode::unchanged) {
      // Pillow's CMYK is the Adobe-inverted form of libjpeg's samples.
      auto* p = static_cast<std::uint8_t*>(out.data());
      for (std::size_t i = 0, n = out.nbytes(); i < n; ++i) p[i] = static_cast<std::uint8_t>(255 - p[i]);
      result.pixels = out;
      return result;
    }
    out = cmyk_to_rgb(out);
  }
  result.pixels = convert_channels(out, after);
  return result;
}

void check_jpeg(std::span<const std::byte> data, const image_decode_options& options, std::string_view name) {
  jpeg_reader r(data, name);
  jpeg_decompress_struct& c = r.cinfo_;
  r.read_header(false);
  check_image_size(c.image_width, c.image_height, options.max_pixels, "JPEG", name);
  const int stored = stored_channels(c, name);
  c.out_color_space = stored == 4 ? JCS_CMYK : stored == 1 ? JCS_GRAYSCALE : JCS_RGB;
  // At 1/8 scale every block is still entropy-decoded (where damage shows) while the IDCT keeps
  // only each block's DC value: about 60% of a full decode's time at quality 90.
  c.scale_num = 1;
  c.scale_denom = 8;
  r.run([&c] { jpeg_start_decompress(&c); });
  std::vector<JSAMPLE> row(static_cast<std::size_t>(c.output_width) * static_cast<std::size_t>(c.output_components));
  JSAMPLE* base = row.data();
  r.run([&c, base] {
    while (c.output_scanline < c.output_height) {
      JSAMPROW p = base;
      jpeg_read_scanlines(&c, &p, 1);
    }
    jpeg_finish_decompress(&c);  // reads on to the end-of-image marker
  });
}

}  // namespace tb::detail
