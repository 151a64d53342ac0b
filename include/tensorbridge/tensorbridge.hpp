#pragma once
/// @file tensorbridge.hpp
/// Every public header of tensorbridge, for users who want the whole library in one include.
///
/// The headers sit in one folder per layer, lowest first: `core/` (dtypes, devices, errors,
/// tensors, threads), `cast/`, `interop/` (DLPack, export planning), `io/` (files, tables, CSV,
/// `.npy`/`.npz`), `pipeline/` (datasets).
#include "tensorbridge/cast/cast.hpp"
#include "tensorbridge/core/block_cache.hpp"
#include "tensorbridge/core/device.hpp"
#include "tensorbridge/core/dtype.hpp"
#include "tensorbridge/core/error.hpp"
#include "tensorbridge/core/tensor.hpp"
#include "tensorbridge/core/threads.hpp"
#include "tensorbridge/interop/arrow.hpp"
#include "tensorbridge/interop/dlpack.hpp"
#include "tensorbridge/interop/plan.hpp"
#include "tensorbridge/image/check.hpp"
#include "tensorbridge/image/image.hpp"
#include "tensorbridge/image/ops.hpp"
#include "tensorbridge/io/arrow_table.hpp"
#include "tensorbridge/io/csv.hpp"
#include "tensorbridge/io/file.hpp"
#include "tensorbridge/io/npy.hpp"
#include "tensorbridge/io/source.hpp"
#include "tensorbridge/io/structured.hpp"
#include "tensorbridge/io/table.hpp"
#include "tensorbridge/pipeline/dataset.hpp"
