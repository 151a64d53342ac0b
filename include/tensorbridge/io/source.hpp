#pragma once
/// @file source.hpp
/// Where a reader's bytes come from: a local file, memory, or an object in S3-compatible storage
/// (`s3://bucket/key`) or on a web server (`https://host/path`, `http://...`), behind one interface.
///
/// - Remote objects are read as parallel ranged GETs straight into the caller's buffer (no
///   temporary file, no second copy); every part must come from the same version of the object
///   (its ETag), else the read fails instead of mixing two versions.
/// - Requests that fail for a passing reason (HTTP 5xx, 429, 503 SlowDown, a reset connection, a
///   timeout) are retried with exponential backoff and jitter, bounded in count and total time.
/// - Errors are `tb::error`s naming the URL (never a secret), the HTTP status and S3's error code:
///   403 is `permission` (and says where the credentials came from), 404 is `not_found`, anything
///   else `io`.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tb {

/// How to reach object storage: the names pandas and s3fs take in `storage_options`, plus the
/// transfer settings. Unset fields come from the environment and the AWS shared files (see
/// `resolve_s3_config`).
struct storage_options {
  std::optional<std::string> key;           ///< access key id (AWS_ACCESS_KEY_ID)
  std::optional<std::string> secret;        ///< secret access key (AWS_SECRET_ACCESS_KEY)
  std::optional<std::string> token;         ///< session token (AWS_SESSION_TOKEN)
  std::optional<std::string> endpoint_url;  ///< e.g. "http://127.0.0.1:8333" (AWS_ENDPOINT_URL_S3)
  std::optional<std::string> region;        ///< signing region (AWS_REGION); default "us-east-1"
  std::optional<std::string> profile;       ///< profile of ~/.aws/credentials and ~/.aws/config
  /// Send requests unsigned (a public bucket). Default: false.
  bool anon = false;
  /// "auto" (path-style with a custom endpoint, virtual-hosted on AWS), "path" or "virtual".
  std::string addressing_style = "auto";
  /// Where the explicit `key`/`secret` came from, for messages (the Python layer sets "botocore"
  /// when it passes botocore's credentials down). Default: "storage_options".
  std::string credentials_source = "storage_options";
  /// Bytes per ranged GET and per multipart-upload part. Default: 8 MiB (S3 needs >= 5 MiB per
  /// upload part except the last; smaller sizes are allowed for reads).
  std::size_t part_size = std::size_t{8} << 20;
  /// Ranged GETs (or part uploads) in flight at once. Default: 8.
  int concurrency = 8;
  /// Objects up to this size are written with one PUT; larger ones with a multipart upload.
  /// Default: 16 MiB.
  std::size_t multipart_threshold = std::size_t{16} << 20;
  /// Retries of one request after a passing failure. Default: 5.
  int max_retries = 5;
  /// No retry starts after this many seconds spent on one request. Default: 60.
  double retry_max_seconds = 60;
  /// First backoff delay in seconds (doubled each retry, with full jitter). Default: 0.1.
  double retry_base_seconds = 0.1;
  /// A local folder keeping the remote objects read (created if missing), for later reads: a
  /// cached copy is used when a one-byte request shows the object's ETag and size unchanged (a
  /// changed object is fetched again), and unchecked when the server cannot be reached. Objects
  /// without an ETag are not cached. Default: empty (no cache).
  std::string cache_dir;
  /// Seconds to wait for a connection. Default: 10.
  double connect_timeout_seconds = 10;
  /// A request making less than 1 byte/s progress for this many seconds fails (and is retried).
  /// Default: 30.
  double low_speed_seconds = 30;
  /// Throws `tb::error` (value) for sizes or counts out of range.
  void validate() const;
};

/// The resolved settings of one S3 request: what `storage_options`, the environment and the AWS
/// files give together. `secret` and `token` are never printed by tensorbridge.
struct s3_config {
  std::string key, secret, token;  ///< credentials; empty key with `anon`
  std::string region = "us-east-1";
  std::string endpoint_url;        ///< empty: AWS (https://s3.REGION.amazonaws.com)
  bool anon = false;
  bool path_style = false;         ///< bucket in the path rather than in the host name
  /// Where the credentials came from, e.g. "storage_options", "environment (AWS_ACCESS_KEY_ID)",
  /// "profile 'default' in /root/.aws/credentials", or "none".
  std::string credentials_source = "none";
};

/// Resolves `options` as the AWS tools do: explicit options, then the environment
/// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION,
/// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_PROFILE), then the profile in
/// AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials and AWS_CONFIG_FILE or ~/.aws/config.
s3_config resolve_s3_config(const storage_options& options);

/// Parses an AWS shared INI file's text (credentials or config): the key/value pairs of section
/// `section` ("default", "profile dev" in config files). Keys are lower-cased.
std::vector<std::pair<std::string, std::string>> parse_aws_ini_section(const std::string& text,
                                                                        const std::string& section);

/// A parsed remote location.
struct remote_url {
  std::string scheme;  ///< "s3", "http" or "https"
  std::string bucket;  ///< s3 only
  std::string key;     ///< s3: the object key (decoded); http(s): the path and query as given
  std::string host;    ///< http(s) only: host[:port]
};

/// True for `s3://`, `http://` and `https://` paths (anything a `byte_source` reads remotely).
bool is_remote_path(const std::string& path) noexcept;

/// Parses `s3://bucket/key` or `http(s)://host/path`. Throws `tb::error` (value) for anything else
/// or an s3 path without a bucket.
remote_url parse_remote_url(const std::string& path);

/// Percent-encodes `s` as S3 signs it (RFC 3986 unreserved characters kept; '/' kept when
/// `keep_slash`).
std::string s3_uri_encode(const std::string& s, bool keep_slash);

/// The HTTP URL of an S3 object (`key` may be empty for the bucket itself) under `config`'s
/// endpoint and addressing style.
std::string s3_object_url(const s3_config& config, const std::string& bucket, const std::string& key);

/// When and how long to wait between attempts of one request.
struct retry_policy {
  int max_retries = 5;           ///< retries after the first attempt
  double max_seconds = 60;       ///< no retry starts later than this after the first attempt
  double base_seconds = 0.1;     ///< first delay; doubled each retry
  double cap_seconds = 5;        ///< largest delay
  /// The delay before retry number `retry` (0-based), "full jitter": uniform in [0, min(cap,
  /// base * 2^retry)], drawn with `unit` in [0, 1).
  double delay(int retry, double unit) const noexcept;
  /// True for HTTP statuses worth another attempt: 429, 500, 502, 503, 504 (and 408).
  static bool retryable_status(long status) noexcept;
};

/// One entry of a listing.
struct object_info {
  std::string path;       ///< full path: `s3://bucket/key`, or the local path
  std::uint64_t size = 0; ///< bytes
  std::string etag;       ///< S3's ETag (quoted as S3 sends it); empty for local files
};

/// Random-access bytes: a local file, memory, or a remote object.
class byte_source {
 public:
  virtual ~byte_source() = default;
  /// The size in bytes (of the version being read).
  virtual std::uint64_t size() const = 0;
  /// Reads exactly `n` bytes at `offset` into `out`; remote sources read large ranges as parallel
  /// ranged requests. Reading past the end, a short read or a changed object is a `tb::error`.
  virtual void read_at(void* out, std::size_t n, std::uint64_t offset) = 0;
  /// The name of the source in messages (path or URL without secrets).
  virtual const std::string& where() const = 0;
  /// The version tag (S3 ETag), empty for local and memory sources.
  virtual std::string etag() const { return {}; }
  /// The open descriptor of a local file source (readers may memory-map it), else -1.
  virtual int fd() const noexcept { return -1; }
};

/// Opens `path`: a local file (read with pread), or a remote object (`is_remote_path`) through
/// HTTP(S) with `options`. The first 64 KiB of a remote object come with the request that learns
/// its size and ETag, so small header reads cost no further request.
std::unique_ptr<byte_source> open_source(const std::string& path, const storage_options& options = {});

/// A source over bytes owned by the caller (they must outlive it), named `where`.
std::unique_ptr<byte_source> memory_source(std::span<const std::byte> bytes, std::string where);

/// Lists the objects under `prefix` (`s3://bucket/prefix`, every page of ListObjectsV2) or the
/// regular files under a local folder (recursively), sorted by path.
std::vector<object_info> list_objects(const std::string& prefix, const storage_options& options = {});

/// A new remote object, visible only once complete: bytes are buffered and sent with one PUT at
/// `commit()` up to `multipart_threshold`, else as a multipart upload whose parts go out while
/// writing. Destroying it uncommitted (an error) aborts the upload: nothing partial is left.
class object_writer {
 public:
  /// Prepares to write `path` (`s3://bucket/key`).
  object_writer(const std::string& path, const storage_options& options = {});
  ~object_writer();
  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;
  /// Appends `bytes`.
  void write(std::span<const std::byte> bytes);
  /// Sends what is left and makes the object visible.
  void commit();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tb
