#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "io/decompress_internal.hpp"
#include "io/source/stream_internal.hpp"

namespace tb::detail {
namespace {

const char* name_of(compression c) {
  switch (c) {
    case compression::gzip: return "gzip";
    case compression::bz2: return "bz2";
    case compression::xz: return "xz";
    case compression::zstd: return "zstd";
    case compression::none: break;
  }
  return "none";
}

}  // namespace

compression sniff_compression(std::span<const std::byte> head) {
  auto starts = [&](std::string_view magic) {
    return head.size() >= magic.size() && std::memcmp(head.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x1f\x8b")) return compression::gzip;
  if (starts("BZh")) return compression::bz2;
  if (starts(std::string_view("\xfd" "7zXZ\x00", 6))) return compression::xz;
  if (starts("\x28\xb5\x2f\xfd")) return compression::zstd;
  return compression::none;
}

namespace {

// Replays the bytes already read to sniff the format, then the rest of the stream.
class replay_stream final : public byte_stream {
 public:
  replay_stream(std::vector<std::byte> head, std::unique_ptr<byte_stream> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  std::size_t read(std::byte* out, std::size_t n) override {
    if (at_ < head_.size()) {
      n = std::min(n, head_.size() - at_);
      std::memcpy(out, head_.data() + at_, n);
      at_ += n;
      return n;
    }
    return rest_->read(out, n);
  }
  const std::string& where() const override { return rest_->where(); }

 private:
  std::vector<std::byte> head_;
  std::size_t at_ = 0;
  std::unique_ptr<byte_stream> rest_;
};

// What every decoder shares: compressed input pulled from `raw_` in pieces, decoded into the
// caller's buffer; at the end of the input the last stream must have ended.
class decoder_stream : public byte_stream {
 public:
  decoder_stream(std::unique_ptr<byte_stream> raw, compression kind)
      : raw_(std::move(raw)), kind_(kind), input_(std::size_t{1} << 18) {}
  std::size_t read(std::byte* out, std::size_t n) override {
    while (n > 0) {
      if (avail_ == 0 && !raw_done_) {
        avail_ = raw_->read(input_.data(), input_.size());
        next_ = input_.data();
        raw_done_ = avail_ == 0;
      }
      if (avail_ == 0 && raw_done_) {
        if (in_stream_)
          fail(error_kind::format, where(), ": the ", name_of(kind_), " data ends early at compressed byte offset ",
               consumed_, ": the file is truncated");
        return 0;
      }
      std::size_t used = 0, made = 0;
      bool ended = step(next_, avail_, out, n, used, made);
      next_ += used;
      avail_ -= used;
      consumed_ += used;
      in_stream_ = !ended;
      if (made > 0) return made;
      if (ended) continue;  // a concatenated stream may follow
      if (used == 0 && avail_ != 0) corrupt("the decoder made no progress");
    }
    return 0;
  }
  const std::string& where() const override { return raw_->where(); }

 protected:
  // Decodes from [in, in + in_n) into [out, out + out_n); says how much it used and made, and
  // whether a stream ended (the decoder is then ready for a following one).
  virtual bool step(const std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
                    std::size_t& made) = 0;
  [[noreturn]] void corrupt(std::string_view why) const {
    fail(error_kind::format, where(), ": the ", name_of(kind_), " data is corrupt near compressed byte offset ",
         consumed_, " (", why, "); check the file, or pass compression=None to read it as it is");
  }

 private:
  std::unique_ptr<byte_stream> raw_;
  compression kind_;
  std::vector<std::byte> input_;
  const std::byte* next_ = nullptr;
  std::size_t avail_ = 0;
  std::uint64_t consumed_ = 0;
  bool raw_done_ = false;
  bool in_stream_ = true;
};

class gzip_stream final : public decoder_stream {
 public:
  explicit gzip_stream(std::unique_ptr<byte_stream> raw) : decoder_stream(std::move(raw), compression::gzip) {
    if (inflateInit2(&z_, 15 + 16) != Z_OK) fail(error_kind::io, where(), ": zlib could not start");
  }
  ~gzip_stream() override { inflateEnd(&z_); }

 private:
  bool step(const std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
            std::size_t& made) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in));
    z_.avail_in = static_cast<uInt>(std::min<std::size_t>(in_n, 1u << 30));
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = static_cast<uInt>(std::min<std::size_t>(out_n, 1u << 30));
    const uInt in_before = z_.avail_in, out_before = z_.avail_out;
    const int rc = inflate(&z_, Z_NO_FLUSH);
    used = in_before - z_.avail_in;
    made = out_before - z_.avail_out;
    if (rc == Z_STREAM_END) {
      inflateReset(&z_);  // pigz and `cat a.gz b.gz` write several members
      return true;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) corrupt(z_.msg ? z_.msg : "inflate failed");
    return false;
  }
  z_stream z_{};
};

class bz2_stream final : public decoder_stream {
 public:
  explicit bz2_stream(std::unique_ptr<byte_stream> raw) : decoder_stream(std::move(raw), compression::bz2) { start(); }
  ~bz2_stream() override { BZ2_bzDecompressEnd(&b_); }

 private:
  void start() {
    b_ = bz_stream{};
    if (BZ2_bzDecompressInit(&b_, 0, 0) != BZ_OK) fail(error_kind::io, where(), ": libbz2 could not start");
  }
  bool step(const std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
            std::size_t& made) override {
    b_.next_in = reinterpret_cast<char*>(const_cast<std::byte*>(in));
    b_.avail_in = static_cast<unsigned>(std::min<std::size_t>(in_n, 1u << 30));
    b_.next_out = reinterpret_cast<char*>(out);
    b_.avail_out = static_cast<unsigned>(std::min<std::size_t>(out_n, 1u << 30));
    const unsigned in_before = b_.avail_in, out_before = b_.avail_out;
    const int rc = BZ2_bzDecompress(&b_);
    used = in_before - b_.avail_in;
    made = out_before - b_.avail_out;
    if (rc == BZ_STREAM_END) {
      BZ2_bzDecompressEnd(&b_);  // pbzip2 writes several streams
      start();
      return true;
    }
    if (rc != BZ_OK) corrupt("libbz2 error " + std::to_string(rc));
    return false;
  }
  bz_stream b_{};
};

class xz_stream final : public decoder_stream {
 public:
  explicit xz_stream(std::unique_ptr<byte_stream> raw) : decoder_stream(std::move(raw), compression::xz) {
    if (lzma_stream_decoder(&s_, UINT64_MAX, 0) != LZMA_OK) fail(error_kind::io, where(), ": liblzma could not start");
  }
  ~xz_stream() override { lzma_end(&s_); }

 private:
  bool step(const std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
            std::size_t& made) override {
    s_.next_in = reinterpret_cast<const std::uint8_t*>(in);
    s_.avail_in = in_n;
    s_.next_out = reinterpret_cast<std::uint8_t*>(out);
    s_.avail_out = out_n;
    const lzma_ret rc = lzma_code(&s_, LZMA_RUN);
    used = in_n - s_.avail_in;
    made = out_n - s_.avail_out;
    if (rc == LZMA_STREAM_END) {
      lzma_end(&s_);  // `xz` may concatenate streams (and pad them)
      s_ = LZMA_STREAM_INIT;
      if (lzma_stream_decoder(&s_, UINT64_MAX, 0) != LZMA_OK) fail(error_kind::io, where(), ": liblzma could not start");
      return true;
    }
    if (rc != LZMA_OK && rc != LZMA_BUF_ERROR) corrupt("liblzma error " + std::to_string(static_cast<int>(rc)));
    return false;
  }
  lzma_stream s_ = LZMA_STREAM_INIT;
};

class zstd_stream final : public decoder_stream {
 public:
  explicit zstd_stream(std::unique_ptr<byte_stream> raw)
      : decoder_stream(std::move(raw), compression::zstd), d_(ZSTD_createDStream()) {
    if (d_ == nullptr) fail(error_kind::io, where(), ": libzstd could not start");
  }
  ~zstd_stream() override { ZSTD_freeDStream(d_); }

 private:
  bool step(const std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
            std::size_t& made) override {
    ZSTD_inBuffer i{in, in_n, 0};
    ZSTD_outBuffer o{out, out_n, 0};
    const std::size_t rc = ZSTD_decompressStream(d_, &o, &i);
    if (ZSTD_isError(rc)) corrupt(ZSTD_getErrorName(rc));
    used = i.pos;
    made = o.pos;
    return rc == 0;  // a frame ended; the next bytes (if any) start another
  }
  ZSTD_DStream* d_;
};

}  // namespace

std::unique_ptr<byte_stream> decompressed(std::unique_ptr<byte_stream> raw, std::string_view name) {
  const bool infer = name == "infer";
  compression asked = compression::none;
  if (name == "gzip" || name == "gz") asked = compression::gzip;
  else if (name == "bz2") asked = compression::bz2;
  else if (name == "xz") asked = compression::xz;
  else if (name == "zstd" || name == "zst") asked = compression::zstd;
  else if (!infer && !name.empty() && name != "none")
    fail(error_kind::value, raw->where(), ": compression=\"", name,
         "\" is not known; pass \"infer\" (the default), None, \"gzip\", \"bz2\", \"xz\" or \"zstd\"");

  std::vector<std::byte> head(6);
  std::size_t have = 0;
  while (have < head.size())
    if (std::size_t got = raw->read(head.data() + have, head.size() - have)) have += got;
    else break;
  head.resize(have);
  const compression found = sniff_compression(head);
  if (!infer && asked != found) {
    if (asked == compression::none)
      fail(error_kind::format, raw->where(), ": the file is ", name_of(found), "-compressed but compression=None "
           "was passed; pass compression=\"infer\" (the default) or \"", name_of(found), "\" to read it");
    fail(error_kind::format, raw->where(), ": compression=\"", name_of(asked), "\" but the data is not ",
         name_of(asked), found == compression::none ? std::string(" (not compressed at all)")
                                                     : detail::cat(" (it is ", name_of(found), ")"),
         "; pass compression=\"infer\" to tell by content");
  }
  auto stream = std::make_unique<replay_stream>(std::move(head), std::move(raw));
  switch (found) {
    case compression::gzip: return std::make_unique<gzip_stream>(std::move(stream));
    case compression::bz2: return std::make_unique<bz2_stream>(std::move(stream));
    case compression::xz: return std::make_unique<xz_stream>(std::move(stream));
    case compression::zstd: return std::make_unique<zstd_stream>(std::move(stream));
    case compression::none: break;
  }
  return stream;
}

std::shared_ptr<storage> read_file_decompressed(const std::string& path, std::string_view name,
                                                const storage_options& storage) {
  if (is_remote_path(path)) return read_remote_decompressed(path, name, storage);
  file_handle f = file_handle::open_raw(path);
  if (f.is_regular()) {
    std::byte head[6] = {};
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(f.size(), sizeof head));
    pread_exact(f.fd(), head, n, 0, path);
    const std::span<const std::byte> first(head, n);
    // Checks `name` against the first bytes (and fails as `decompressed` would) without reading on.
    (void)decompressed(memory_stream(first, path), name);
    if (sniff_compression(first) == compression::none) {
      // Plain text: parallel preads of the size it has now; a file shrinking meanwhile is an error.
      const auto size = static_cast<std::size_t>(f.size());
      auto out = storage::allocate(size);
      pread_exact(f.fd(), out->data(), size, 0, path);
      return out;
    }
  }
  auto in = decompressed(file_stream_of(std::move(f)), name);
  return read_to_end(*in);
}

std::shared_ptr<storage> read_remote_decompressed(const std::string& path, std::string_view name,
                                                  const storage_options& options) {
  auto source = open_source(path, options);
  std::byte head[6] = {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(source->size(), sizeof head));
  source->read_at(head, n, 0);
  const std::span<const std::byte> first(head, n);
  (void)decompressed(memory_stream(first, source->where()), name);
  if (sniff_compression(first) == compression::none) {
    // Plain text: parallel ranged GETs straight into the buffer the parser reads.
    auto out = storage::allocate(static_cast<std::size_t>(source->size()));
    source->read_at(out->data(), out->nbytes(), 0);
    return out;
  }
  auto in = decompressed(source_stream(std::move(source), options), name);
  return read_to_end(*in);
}

}  // namespace tb::detail
