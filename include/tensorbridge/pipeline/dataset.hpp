#pragma once
/// @file dataset.hpp
/// The data pipeline: `from_tensor_slices -> shuffle -> batch -> map -> prefetch`, with `shard`,
/// `repeat`, `take` and `skip`, yielding batches gathered in C++ on background threads.
///
/// The order of samples is a pure function of (seed, epoch, shard): it does not depend on the
/// thread count or the prefetch depth. An iteration can be saved as a small `iterator_state` and
/// resumed exactly where it stopped, in O(1).
///
/// Example:
/// ```
/// tb::dataset ds = tb::dataset::from_tensor_slices({{"x", x}, {"y", y}})
///                      .shuffle({.enabled = true, .seed = 0})
///                      .batch({.batch_size = 32})
///                      .map(tb::map_op::cast(tb::dtype::float32), {0});
/// auto it = ds.iterate({.buffer_size = 2});
/// while (auto b = it->next()) use((*b)[0], (*b)[1]);
/// ```

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/image/check.hpp"
#include "tensorbridge/image/ops.hpp"
#include "tensorbridge/io/source.hpp"

namespace tb {

/// A column of image files, decoded when a batch is made (on the worker threads), with the
/// image ops mapped onto it fused into the decode (`image_transform`).
struct image_source {
  std::vector<std::string> paths;  ///< one encoded JPEG/PNG/WebP file (or remote object) per sample
  storage_options storage;         ///< how to reach remote paths (`s3://`, `https://`)
  image_transform transform;       ///< decode + the image ops folded in so far
  shape_t sample_shape;            ///< the per-sample output shape (the first image's without a size-fixing op)
  std::int64_t first_height = 0;   ///< rows of the first image (sizes the output without a size-fixing op)
  std::int64_t first_width = 0;    ///< columns of the first image
  bool sealed = false;             ///< an op could not be fused: later ops run on batches too
  std::vector<image_file_problem> skipped;  ///< the files `on_error = skip` left out (index: in the list given)
};

/// What `dataset::from_files` does about files that do not decode.
enum class image_error_action {
  raise,  ///< nothing checked up front: the batch that meets such a file fails, naming it
  /// every file is decoded once when the data set is made (`check_image_files`, on
  /// `check_threads` threads) and those that fail are left out: the same files on every run,
  /// whatever the thread count, block size, seed or resume point (`dataset::skipped_files`)
  skip,
};

/// Options of `dataset::from_files`.
struct image_files_options {
  image_decode_options decode;  ///< the mode (`unchanged` gives RGB) and pixel limit of the images
  /// JPEG: decode crops at 1/2, 1/4 or 1/8 scale when that still covers the output
  /// (`image_transform::dct_scaling`): faster on large images, but the fused ops then differ from
  /// the unfused ones by more than 1 LSB at edges. Off: fused == unfused within 1 LSB.
  bool dct_scaling = false;
  image_error_action on_error = image_error_action::raise;  ///< see `image_error_action`
  int check_threads = 0;  ///< threads checking the files for `skip`; 0: one per core
  /// Progress of the `skip` check (`image_check_options::progress`); may throw to abandon it.
  std::function<void(std::int64_t done, std::int64_t total)> progress = nullptr;
  storage_options storage;  ///< how to reach remote paths (`s3://`, `https://`)
};

/// The files of an image folder: `root/<class>/<image>`, as `list_image_folder` finds them.
struct image_folder_listing {
  std::vector<std::string> class_names;  ///< the class sub-folders (sub-prefixes), sorted
  std::vector<std::string> paths;        ///< the image files, class by class
  std::vector<std::int64_t> labels;      ///< each file's class index into `class_names`
};

/// Lists the image folder `root`: a local folder, or an S3 prefix (`s3://bucket/prefix/`, listed
/// with ListObjectsV2 through `storage`). Classes are the sorted sub-folder names (not starting
/// with '.'); a class's files are those whose name ends in one of `extensions` (lower-case, with
/// the dot; any case matches), in the order `os.walk` gives them (a folder's files, sorted, then
/// its sub-folders, sorted). Throws `tb::error` (not_found) when there is no class, or a class has
/// no image.
image_folder_listing list_image_folder(const std::string& root, const std::vector<std::string>& extensions,
                                       const storage_options& storage = {});

/// One named column of a data set: a tensor whose first dimension indexes samples.
struct dataset_field {
  std::string name;  ///< the key in dict outputs ("0", "1"... for tuples)
  tensor data;       ///< borrowed, never copied whole; shape (rows, ...)
  /// More tensors concatenated after `data` along axis 0 (same dtype and row shape), e.g. the
  /// memory-mapped `.npy` files of a data set larger than RAM. Never copied either.
  std::vector<tensor> continued = {};
  /// For a column of image files: the files; `data` then holds the int64 row numbers 0..n-1.
  std::shared_ptr<const image_source> images = nullptr;
};

/// What one field of an output element looks like (after native maps).
struct field_spec {
  std::string name;   ///< the field's name
  tb::dtype dtype;    ///< element type of the output
  shape_t shape;      ///< per-sample shape (without the batch dimension)
};

/// Options of `dataset::shuffle`.
///
/// - The shuffle is always an exact global shuffle: a pseudo-random bijection of the sample
///   indices, keyed by (seed, epoch), evaluated per index in O(1) memory.
struct shuffle_options {
  bool enabled = true;                ///< false: keep the source order
  std::uint64_t seed = 0;             ///< the order is a function of (seed, epoch) only
  /// `seed` was drawn at random (`draw_seed`) rather than chosen, so other processes do not know
  /// it: such a data set refuses `shard` into more than one part, and a sharded one refuses such a
  /// shuffle (every rank would shuffle in another order).
  bool random_seed = false;
  bool reshuffle_each_epoch = true;   ///< false: the same order in every epoch
  /// tf.data's window size, accepted for compatibility; random-access sources are always shuffled
  /// globally. Nothing means "not given"; a given size must be at least 1.
  std::optional<std::int64_t> buffer_size = std::nullopt;
  /// Throws `tb::error` (value) for a buffer size below 1.
  void validate() const;
};

/// A seed drawn at random from `std::random_device` (63 bits), for `shuffle_options::seed` when
/// the caller names none (set `shuffle_options::random_seed` with it).
std::uint64_t draw_seed();

/// Options of `dataset::batch`.
struct batch_options {
  std::int64_t batch_size = 1;   ///< samples per batch, >= 1
  bool drop_remainder = false;   ///< drop the last, short batch of each epoch
  /// Throws `tb::error` (value) for a batch size below 1.
  void validate() const;
};

/// How `shard` makes every rank run the same number of steps.
enum class shard_padding {
  wrap,    ///< repeat samples from the start of the epoch's order (as torch's DistributedSampler)
  drop,    ///< drop the last samples so that the count divides evenly
  uneven,  ///< no padding: ranks may differ by one sample
};

/// Parses "wrap", "drop" or "uneven"; throws `tb::error` (value) naming the choices otherwise.
shard_padding shard_padding_from_name(std::string_view name);

/// Options of `dataset::shard`.
///
/// - Sharding always partitions each epoch's (shuffled) order: rank r takes positions
///   r, r + n, r + 2n... So every rank sees a different subset each epoch, the ranks together
///   see every sample, and no sample is seen twice except for `wrap` padding.
struct shard_options {
  std::int64_t num_shards = 1;              ///< the world size, >= 1
  std::int64_t index = 0;                   ///< this rank, in [0, num_shards)
  shard_padding padding = shard_padding::wrap;  ///< how to equalise the ranks
  /// Throws `tb::error` (value) for a bad count or an index out of range.
  void validate() const;
};

/// Background production of batches.
///
/// - Batches are made in blocks: consecutive batches of one epoch gathered into one buffer per
///   field, about `block_bytes` each (at least one batch). Small batches then cost one hand-over
///   between threads per block, not per batch; the content of every batch is unchanged.
struct prefetch_options {
  /// The most worker threads an iterator starts.
  static constexpr std::int64_t max_threads = 1024;
  /// The value of `buffer_size` or `num_threads` that lets the iterator choose it (tf.data's
  /// `AUTOTUNE`, also -1); see `resolve`.
  static constexpr std::int64_t autotune = -1;
  /// Memory that an autotuned buffer_size may fill with blocks ahead of the consumer: 16 MiB.
  static constexpr std::int64_t autotune_bytes = std::int64_t{16} << 20;

  /// Blocks produced ahead of the consumer (the bounded queue's capacity: `prefetch(buffer_size)`
  /// in Python, as in tf.data); 0 computes each block
  /// in the consumer's `next()` call; `autotune` chooses (see `resolve`). Memory follows the
  /// blocks actually made ahead, never `buffer_size` itself, so a buffer_size larger than the iteration costs
  /// nothing more.
  std::int64_t buffer_size = 2;
  /// Worker threads producing blocks when `buffer_size > 0`, in [0, max_threads]; 0 picks
  /// min(buffer_size, tb::num_threads()); `autotune` chooses (see `resolve`). Never more than the blocks
  /// left to make.
  std::int64_t num_threads = 0;
  /// Target size of a block in output bytes; 0 makes every block one batch.
  std::int64_t block_bytes = std::int64_t{1} << 18;
  /// Throws `tb::error` (value) for negative values other than `autotune` in `buffer_size` and
  /// `num_threads`, too many threads, or a negative `block_bytes`, naming the field.
  void validate() const;
  /// These options with every `autotune` field chosen, for blocks of `block_size` output bytes
  /// (the bytes of the batches in one block):
  ///
  /// - `num_threads`: the hardware's, `tb::num_threads()` (`TB_NUM_THREADS` / `set_num_threads`).
  /// - `buffer_size`: as many blocks as fit in `autotune_bytes`, at least 2 and at most 4 per worker
  ///   thread (the threads asked for, or the hardware's when those are automatic too).
  /// - then an autotuned `num_threads` is at most `buffer_size` (a thread without a slot would idle).
  ///
  /// Fields that are not `autotune` are returned as they are.
  prefetch_options resolve(std::int64_t block_size) const;
};

/// One of `count` interleaved parts of an iteration: its batches `index`, `index + count`,
/// `index + 2 * count`... So consumers that take turns (torch DataLoader workers, whose round robin
/// yields worker 0's first batch, worker 1's first...) together give the whole iteration, in order,
/// each batch made once.
struct iteration_part {
  std::int64_t count = 1;  ///< the number of parts, >= 1
  std::int64_t index = 0;  ///< this part, in [0, count)
  /// Throws `tb::error` (value) for a count below 1 or an index out of range, naming the field.
  void validate() const;
};

/// Which native operation a `map_op` applies.
enum class map_kind { cast, normalize, one_hot, permute, reshape, random_flip, resize, center_crop, random_resized_crop };

/// A native operation applied to whole batches of one or more fields, on the worker threads.
///
/// Shapes and axes are per sample (without the batch dimension), as in `tf.data`'s `map`.
///
/// Random ops draw from one stream per sample, seeded by `sample_seed(seed, epoch, source row)`
/// (the pipeline's shuffle seed): the result never depends on threads, blocks or batch makeup.
struct map_op {
  map_kind kind = map_kind::cast;     ///< the operation
  tb::dtype dtype = tb::dtype::float32;  ///< cast: target; normalize/one_hot: output dtype (floating for normalize)
  std::vector<double> mean;           ///< normalize: one value, or one per element of the last axis
  std::vector<double> std;            ///< normalize: same length as `mean`, all non-zero
  std::int64_t depth = 0;             ///< one_hot: number of classes, >= 1
  shape_t axes;                       ///< permute: a permutation of the per-sample axes; random_flip: the axis
  double p = 0.5;                     ///< random_flip: the probability that a sample is flipped, in [0, 1]
  shape_t shape;                      ///< reshape: the new per-sample shape (one -1 is inferred); image ops: (height, width), or (shorter side,) for resize
  std::vector<double> range;          ///< random_resized_crop: scale_min, scale_max, ratio_min, ratio_max
  bool antialias = true;              ///< resize, random_resized_crop: Pillow's antialiased bilinear filter

  /// `cast(to)`: converts elements with the unsafe rule (as `ndarray.astype`).
  static map_op cast(tb::dtype to);
  /// `(x - mean) / std` in `dtype` (float32 by default), broadcast along the last axis.
  static map_op normalize(std::vector<double> mean, std::vector<double> std, tb::dtype dtype = tb::dtype::float32);
  /// Integer labels of shape S to one-hot vectors of shape S + (depth,).
  static map_op one_hot(std::int64_t depth, tb::dtype dtype = tb::dtype::float32);
  /// Reorders the per-sample axes (the output is contiguous).
  static map_op permute(shape_t axes);
  /// Views each sample with a new shape of the same size.
  static map_op reshape(shape_t shape);
  /// Reverses each sample along per-sample `axis` with probability `p` (e.g. a horizontal
  /// flip of HWC images is axis 1). Random: needs one seed per sample.
  static map_op random_flip(std::int64_t axis, double p = 0.5);
  /// Resizes HWC uint8 images (Pillow's bilinear; `size` (h, w), or (s,) for the shorter side as
  /// torchvision's `Resize(s)`). On a column of image files it fuses with the decode.
  static map_op resize(shape_t size, bool antialias = true);
  /// torchvision's `CenterCrop(size)` of HWC images (`size` (h, w) or (s,) for a square).
  static map_op center_crop(shape_t size);
  /// torchvision's `RandomResizedCrop(size, scale, ratio)` of HWC uint8 images, one draw per
  /// sample seed. On a column of image files it decodes only the crop (JPEG).
  static map_op random_resized_crop(shape_t size, double scale_min = 0.08, double scale_max = 1.0,
                                    double ratio_min = 3.0 / 4.0, double ratio_max = 4.0 / 3.0);
  /// True for ops that draw random numbers (they need `seeds` in `apply`).
  bool is_random() const noexcept {
    return kind == map_kind::random_flip || kind == map_kind::random_resized_crop;
  }

  /// Throws `tb::error` (value) for inconsistent parameters.
  void validate() const;
  /// The output spec for an input field spec; throws `tb::error` if the op does not apply to it.
  field_spec output_spec(const field_spec& in) const;
  /// Applies the op to a batch (first dimension = batch). The result is a new contiguous tensor
  /// (or a view for reshape). Random ops take one seed per sample (`sample_seed`) and throw
  /// `tb::error` (value) without them. Throws `tb::error` for out-of-range one-hot labels.
  tensor apply(const tensor& batch, std::span<const std::uint64_t> seeds = {}) const;
};

/// Consecutive batches of one epoch stored back to back, as `dataset_iterator::next_block`
/// returns them: one export of `fields` hands all of them to a framework.
struct batch_block {
  std::int64_t first = 0;  ///< position in the iteration of the first batch
  /// The first row of each batch in `fields`, then the total number of rows.
  std::vector<std::int64_t> offsets = {0};
  bool batched = true;     ///< false: every "batch" is one sample, without a batch axis
  /// Per field: shape (total rows, per-sample shape...), C-contiguous.
  std::vector<tensor> fields;
  /// One uint64 per row: `sample_seed(seed, epoch, source row)`, for random augmentation.
  tensor seeds;

  /// Batches in the block.
  std::int64_t count() const noexcept { return static_cast<std::int64_t>(offsets.size()) - 1; }
  /// Samples in each batch, in order.
  std::vector<std::int64_t> sizes() const;
  /// Batch `i` (in [0, count())) as views of `fields`, shaped as `dataset_iterator::next` returns it.
  std::vector<tensor> batch(std::int64_t i) const;
};

/// Where an iteration stands; O(1) to save and to restore.
///
/// - The batch delivered next is number `yielded` of the iteration that started at
///   `first_epoch`: epoch `first_epoch + yielded / batches_per_epoch`, cursor
///   `yielded % batches_per_epoch`.
///
/// - Saved as a `state_record` (`to_record` / `from_record`): the small key/value form users keep
///   (Python's `iterator.state()` dict), versioned by `record_version`.
struct iterator_state {
  /// The version of the saved form that `to_record` writes and `from_record` accepts.
  static constexpr std::int64_t record_version = 1;

  std::uint64_t fingerprint = 0;  ///< identifies the data set and pipeline the state belongs to
  std::uint64_t seed = 0;         ///< the shuffle seed
  std::int64_t first_epoch = 0;   ///< the epoch the iteration started at
  std::int64_t yielded = 0;       ///< batches delivered so far by the iteration
  std::int64_t epoch = 0;         ///< epoch of the next batch (derived, for people)
  std::int64_t cursor = 0;        ///< batches of that epoch already delivered (derived)
  std::int64_t num_shards = 1;    ///< the shard count of the pipeline
  std::int64_t shard_index = 0;   ///< the rank the state was saved on

  /// One value of the saved form: a signed or unsigned integer, or text.
  using record_value = std::variant<std::int64_t, std::uint64_t, std::string>;
  /// The saved form: (key, value) pairs. `to_record` writes, in this order: "version"
  /// (`record_version`), "fingerprint" (16 lowercase hexadecimal digits, see `format_fingerprint`),
  /// then "seed", "epoch", "cursor", "first_epoch", "yielded", "num_shards", "shard_index".
  using record = std::vector<std::pair<std::string, record_value>>;

  /// This state in its saved form.
  record to_record() const;
  /// Reads a saved form back; keys it does not know are ignored. Throws `tb::error` (value) for a
  /// missing or other version, missing keys (naming them), a fingerprint that is not 1 to 16
  /// hexadecimal digits, or an integer outside its field's type (seed: [0, 2**64 - 1], the
  /// others int64), naming the key; (type) for text where an integer belongs. Whether the state
  /// fits a data set is `dataset::check_state`'s question.
  static iterator_state from_record(const record& saved);
};

/// A fingerprint as 16 lowercase hexadecimal digits (how saved states and messages show it).
std::string format_fingerprint(std::uint64_t fingerprint);

namespace detail {
struct dataset_plan;
class batch_arena;
}  // namespace detail

/// A running iteration: produces batches in order, ahead of time on worker threads.
///
/// - Destroying or closing it stops its threads promptly (within one batch's work).
/// - Not thread-safe: one consumer calls `next()`.
class dataset_iterator {
 public:
  /// `part` (of an iteration that starts at `start.yielded == 0`): only its batches are made.
  dataset_iterator(std::shared_ptr<const detail::dataset_plan> plan, const iterator_state& start,
                   const prefetch_options& prefetch, const iteration_part& part = {});
  ~dataset_iterator();
  dataset_iterator(const dataset_iterator&) = delete;
  dataset_iterator& operator=(const dataset_iterator&) = delete;

  /// The next batch, one tensor per field, or nothing at the end. Rethrows a worker's error.
  ///
  /// - After an error the iterator stands just before the batch that failed: `state()` counts
  ///   only the batches delivered, and the next call makes that batch again (and throws again if
  ///   the failure lasts). Nothing is skipped and the iteration does not end early.
  std::optional<std::vector<tensor>> next();
  /// The next batches at once: the rest of the current block, or the next block. Nothing at the
  /// end. Counts as `count()` calls of `next()`; errors leave the iterator as `next()` does.
  std::optional<batch_block> next_block();
  /// The state after the last batch `next()` or `next_block()` returned.
  ///
  /// - For one part of an iteration (`dataset::iterate_part`), `yielded` counts that part's
  ///   batches: such a state does not resume the iteration.
  iterator_state state() const;
  /// The state after only `yielded` batches of this iteration (between the start and `state()`),
  /// for a consumer that hands out the batches of a block one at a time. Throws `tb::error`
  /// (value) outside that range.
  iterator_state state_at(std::int64_t yielded) const;
  /// Batches left in this iteration, or -1 if it repeats forever.
  std::int64_t remaining() const;
  /// Stops the worker threads; `next()` then returns nothing. Idempotent.
  void close();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

/// A pipeline description: immutable, cheap to copy; every method returns a new dataset.
///
/// The stages always run in this order, whatever the order of the calls:
/// source -> take/skip -> shuffle -> take/skip -> shard -> batch -> take/skip -> map -> repeat -> take.
/// A call that would need another order (shuffle after batch, ...) throws `tb::error` (value).
class dataset {
 public:
  /// A data set whose samples are the rows of `fields` (all first dimensions equal, counting
  /// `continued` parts). Throws `tb::error` (value) for no fields, 0-d tensors, mismatched first
  /// dimensions, parts whose dtype or row shape differ, duplicate names, or non-CPU memory.
  static dataset from_tensor_slices(std::vector<dataset_field> fields);

  /// A data set of image files: field "image" (decoded lazily on the worker threads, as
  /// `read_image` with `options.decode`, HWC uint8) and, when `labels` is given (shape (n, ...)),
  /// field "label". Image ops mapped onto "image" (`resize`, `center_crop`, `random_resized_crop`,
  /// then `random_flip` on the width axis, `normalize`, `permute` to CHW, `cast`) fuse with the
  /// decode and write each finished sample once into the batch. Without a size-fixing op every
  /// image must have the first one's size (else the batch fails naming the op to add). With
  /// `options.on_error = skip` the files that do not decode are left out (with their labels) and
  /// listed by `skipped_files`. Throws `tb::error` (value) for no paths or a label count that
  /// differs, (format) when no file is left, and the errors of `read_image_info` for the first file.
  /// Remote paths (`s3://bucket/key`, `https://...`) are fetched through `options.storage` by the
  /// worker thread that decodes them (one request per image up to 64 KiB).
  static dataset from_files(std::vector<std::string> paths, std::optional<tensor> labels = std::nullopt,
                            const image_files_options& options = {});

  /// Shuffles samples globally each epoch. Only before `batch`. A `random_seed` on a data set
  /// sharded into more than one part throws `tb::error` (value): the ranks must share the seed.
  dataset shuffle(const shuffle_options& options) const;
  /// Groups samples into batches.
  dataset batch(const batch_options& options) const;
  /// Applies a native op to the fields at indices `on` (empty: every field), as `map(op, on=...)` in Python.
  dataset map(const map_op& op, std::vector<std::int64_t> on = {}) const;
  /// Keeps this rank's part of each epoch. Only before `batch`. More than one shard of a data set
  /// shuffled with a `random_seed` throws `tb::error` (value): the ranks must share the seed.
  dataset shard(const shard_options& options) const;
  /// Runs `count` epochs per iteration (-1: forever).
  dataset repeat(std::int64_t count = -1) const;
  /// Keeps the first `n` elements (samples before `batch`, batches after it, all batches of the
  /// iteration after `repeat`).
  dataset take(std::int64_t n) const;
  /// Skips the first `n` elements (samples before `batch`, batches after it; not after `repeat`).
  dataset skip(std::int64_t n) const;
  /// How rows of memory-mapped source files are read (any position in the chain).
  ///
  /// - `true`: through the mapping. Every page touched stays mapped into the process and counts
  ///   in its RSS (RssFile) until the data set dies: after a shuffled epoch, the whole file.
  ///   Fastest while the files fit in RAM.
  /// - `false` (the default): with positioned reads (`preadv`, one call per run of adjacent rows)
  ///   from the file straight into the batch buffer; the mapping is never touched, so RSS stays at
  ///   the batch buffers whatever the file size. A read error or a file truncated since it was
  ///   mapped is a `tb::error` (io) naming the file, byte offset and row.
  /// - Applies to shared read-only mappings that tensorbridge made (`load_npy` with `mmap`) whose
  ///   rows are contiguous; copy-on-write mappings, Fortran-order files, in-memory and foreign
  ///   arrays are always read from memory.
  dataset keep_resident(bool keep) const;

  /// Number of rows of the source.
  std::int64_t source_size() const;
  /// Batches (or samples, when unbatched) per epoch on this shard.
  std::int64_t batches_per_epoch() const;
  /// Epochs per iteration (-1: forever).
  std::int64_t epochs_per_iteration() const;
  /// How far each new iteration moves the next epoch (`iterate`): the iteration's epoch count, 1
  /// when it repeats forever or runs no epoch. Consumers that share iterations (DataLoader workers)
  /// step their epoch by it.
  std::int64_t epoch_step() const;
  /// Batches (samples when unbatched) in one iteration: every epoch's, then `take` after `repeat`;
  /// -1 when it repeats forever.
  std::int64_t iteration_length() const;
  /// True once `batch` has been called.
  bool batched() const;
  /// The batch options (batch_size 1 when unbatched).
  batch_options batching() const;
  /// The shard options.
  shard_options sharding() const;
  /// The shuffle options (enabled = false when not shuffled).
  shuffle_options shuffling() const;
  /// The per-sample output of each field.
  std::vector<field_spec> element_spec() const;
  /// The files a `from_files` source with `on_error = skip` left out, in the order given (empty
  /// for other sources).
  std::vector<image_file_problem> skipped_files() const;
  /// A hash of the source (shapes, dtypes, a few rows) and the pipeline, excluding the seed and
  /// the shard index: states carry it to refuse being restored into another data set.
  std::uint64_t fingerprint() const;

  /// The state at the start of an iteration beginning at `epoch`.
  iterator_state initial_state(std::int64_t epoch) const;
  /// `prefetch` validated, with its `autotune` fields chosen for this data set's blocks
  /// (`prefetch_options::resolve`); what `iterate` and `resume` run with.
  prefetch_options resolve_prefetch(const prefetch_options& prefetch) const;
  /// Starts an iteration at this data set's next epoch (each call advances it by the iteration's
  /// epoch count, so every new iteration is a new epoch).
  std::unique_ptr<dataset_iterator> iterate(const prefetch_options& prefetch = {}) const;
  /// Resumes an iteration from a saved state. Throws `tb::error` (value) if the state belongs to
  /// another data set, pipeline, seed or shard, or is inconsistent (see `check_state`). Advances
  /// the next epoch past the resumed iteration.
  std::unique_ptr<dataset_iterator> resume(const iterator_state& state, const prefetch_options& prefetch = {}) const;
  /// Throws `tb::error` (value) naming the first field of `state` that this data set would not
  /// have produced, with the value expected: the fingerprint, the seed, the shard, first_epoch
  /// (>= 0), yielded (within the iteration), and epoch and cursor (derived from the others).
  void check_state(const iterator_state& state) const;

  /// Part `part` of the iteration that starts at `epoch` (as `resume(initial_state(epoch))`):
  /// its batches `part.index`, `part.index + part.count`..., none of the others made. Consumers
  /// that each take one part and agree on `epoch` share the iteration without repeating work.
  std::unique_ptr<dataset_iterator> iterate_part(std::int64_t epoch, const iteration_part& part,
                                                 const prefetch_options& prefetch = {}) const;

  /// The source row indices of batch `batch` of `epoch` on this shard (empty past the end).
  std::vector<std::int64_t> batch_indices(std::uint64_t seed, std::int64_t epoch, std::int64_t batch) const;

 private:
  explicit dataset(std::shared_ptr<const detail::dataset_plan> plan);
  /// Moves the next epoch past the iteration that `state` belongs to.
  void advance_past(const iterator_state& state) const;
  std::shared_ptr<const detail::dataset_plan> plan_;
  std::shared_ptr<std::atomic<std::int64_t>> next_epoch_;
};

/// Copies rows `indices` of `src` (shape (n, ...)) into `dst` (shape (len(indices), ...), same
/// dtype, C-contiguous): one memcpy per row when a row is contiguous. Throws `tb::error` (value)
/// for an index out of range, naming it.
void gather_rows(const tensor& src, std::span<const std::int64_t> indices, const tensor& dst);

/// The raw gather limit, for benchmarks: seconds to gather every batch of `order` (consecutive
/// runs of `batch_size` indices) from each of `fields` into reused C-contiguous buffers with
/// `gather_rows`, on one thread.
double time_gather(std::span<const tensor> fields, std::span<const std::int64_t> order, std::int64_t batch_size);

/// A per-sample random seed derived from (seed, epoch, source index), for random augmentation
/// that must not depend on thread count or batch composition.
std::uint64_t sample_seed(std::uint64_t seed, std::int64_t epoch, std::int64_t index) noexcept;

}  // namespace tb
