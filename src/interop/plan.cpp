#include "tensorbridge/interop/plan.hpp"

namespace tb {
namespace {

// What an unsafe cast does to the values, by the rules of cast.hpp, so the hint never promises
// the wrong thing (a float into an integer saturates; it does not wrap).
const char* unsafe_effect(dtype from, dtype to) {
  if (is_complex(from) && !is_complex(to)) return "the imaginary part is dropped; checked=True raises if it is nonzero";
  if (info(to).kind == dtype_kind::boolean) return "every nonzero value becomes True";
  if (!is_integer(to)) return "values may be rounded; checked=True raises where they overflow";
  if (is_integer(from))
    return "values out of range wrap, as in NumPy; checked=True raises instead";
  return "fractions are truncated toward zero and values out of range saturate; checked=True raises instead";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

// Sharing with a consumer that assumes its arrays never change (TensorFlow, JAX). Plain string
// concatenation: the note is made on every zero-copy export to them, where a stream would cost
// more than the export.
std::string immutable_note(const std::string& who) {
  return "the " + who + " array shares memory with the source, but " + who +
         " treats arrays as immutable: a later write to the source (or to the file it maps) changes it, and what "
         "is computed from it afterwards may change with it; pass copy=True for an independent array";
}

// bool < integer < float < complex: the order in which a Python number's kind fits another's.
int kind_rank(dtype t) {
  switch (info(t).kind) {
    case dtype_kind::boolean: return 0;
    case dtype_kind::signed_int:
    case dtype_kind::unsigned_int: return 1;
    case dtype_kind::floating: return 2;
    case dtype_kind::complex: return 3;
  }
  return 2;
}

}  // namespace

std::string export_plan::summary() const {
  if (!error.empty()) return "impossible: " + error;
  std::string out = zero_copy ? (read_only ? "zero-copy (read-only)" : "zero-copy")
                              : detail::cat("copy of ", bytes_to_copy, " bytes (", join(reasons, "; "), ")",
                                            lossy ? ", lossy" : "");
  for (const auto& note : notes) out += "; note: " + note;
  return out;
}

std::optional<tensor> private_file_view(const tensor& t) {
  if (!t.layout().shared_file_map) return std::nullopt;
  std::shared_ptr<storage> copy = t.storage()->map_private_copy();
  if (!copy) return std::nullopt;
  return tensor(std::move(copy), t.dtype(), t.shape(), t.strides(), t.byte_offset(), t.device(), false);
}

export_plan plan_export(const tensor& src, const export_request& req) { return plan_export(src.layout(), req); }

export_plan plan_export(const layout_view& src, const export_request& req) {
  export_plan plan;
  plan.from = src.dtype;
  plan.to = req.dtype.value_or(src.dtype);
  plan.checked = req.checked;
  casting rule = req.rule;
  if (req.weak_values && req.dtype && kind_rank(plan.to) >= kind_rank(plan.from)) {
    rule = casting::unsafe;
    plan.checked = true;
  }
  const std::string& who = req.consumer.name;
  auto refuse = [&](error_kind kind, std::string message) {
    plan.error = std::move(message);
    plan.error_kind = kind;
    plan.zero_copy = false;
    return plan;
  };

  if (!src.device.is_host())
    return refuse(error_kind::value, detail::cat("the source lives on ", to_string(src.device),
                                                 ", which tensorbridge cannot read on this machine; move it to "
                                                 "the CPU first"));
  if (!req.device.is_host())
    return refuse(error_kind::value, detail::cat("device \"", to_string(req.device),
                                                 "\" is not available: this machine has no such device; use "
                                                 "device=\"cpu\""));

  if (src.ndim() > req.consumer.max_ndim)
    return refuse(error_kind::value,
                  detail::cat(who, " holds at most ", req.consumer.max_ndim, " dimensions and the tensor has ",
                              src.ndim(), "; merge or drop dimensions first (reshape, or squeeze those of size 1)"));

  if (plan.to != plan.from) {
    if (!can_cast(plan.from, plan.to, rule))
      return refuse(error_kind::type,
                    detail::cat("cannot cast ", name(plan.from), " to ", name(plan.to), " under casting=\"",
                                to_string(rule), "\"",
                                can_cast(plan.from, plan.to, casting::same_kind)
                                    ? "; pass casting=\"same_kind\" to allow it"
                                    : detail::cat("; pass casting=\"unsafe\" to allow it (",
                                                  unsafe_effect(plan.from, plan.to), ")")));
    plan.lossy = !can_cast(plan.from, plan.to, casting::safe);
    plan.reasons.push_back(detail::cat("dtype changes from ", name(plan.from), " to ", name(plan.to)));
  }
  const consumer_limits& c = req.consumer;
  if (!c.dtypes.contains(plan.to))
    plan.reasons.push_back(detail::cat(who, " cannot share ", name(plan.to), " memory"));
  if (!c.strided && !src.is_contiguous())
    plan.reasons.push_back(detail::cat(who, " needs C-contiguous memory and the source is not (strides ",
                                       format_tuple(src.strides), " elements)"));
  else if (!c.negative_strides && src.has_negative_strides())
    plan.reasons.push_back(detail::cat(who, " does not accept negative strides"));
  if (!c.overlapping && src.has_overlap())
    plan.reasons.push_back(detail::cat(who, " does not accept zero strides (a broadcast view)"));
  if (c.alignment > 1 && !src.is_aligned(c.alignment))
    plan.reasons.push_back(detail::cat(who, " shares only ", c.alignment, "-byte aligned memory and the source is not"));
  // A read-only file map can still be shared with a consumer that writes: through a private
  // copy-on-write map of the same pages, whose written pages never reach the file.
  const bool remap = !c.read_only && src.read_only && src.shared_file_map;
  if (!c.read_only && src.read_only && !remap)
    plan.reasons.push_back(detail::cat("the source is read-only and ", who, " would be allowed to write it (", who,
                                       " ", c.read_only_gap, ")"));

  if (plan.reasons.empty() && req.copy == copy_mode::always) plan.reasons.push_back("copy=True was asked for");
  if (plan.reasons.empty()) {
    plan.private_map = remap;
    plan.read_only = src.read_only && !remap;
    if (remap)
      plan.notes.push_back(detail::cat("the read-only file map is shared through a private copy-on-write map of "
                                       "the same pages: writes through the ", who,
                                       " tensor stay in this process and never reach the file"));
    if (c.immutable && (!src.read_only || src.file_map)) plan.notes.push_back(immutable_note(who));
    return plan;
  }
  plan.zero_copy = false;
  plan.bytes_to_copy = static_cast<std::size_t>(src.numel()) * itemsize(plan.to);
  if (req.copy == copy_mode::never)
    return refuse(error_kind::buffer, detail::cat("copy=False, but handing this tensor to ", who,
                                                  " needs a copy: ", join(plan.reasons, "; "),
                                                  "; pass copy=None to allow the copy"));
  return plan;
}

tensor execute(const tensor& src, const export_plan& plan) {
  if (!plan.error.empty()) throw error(plan.error_kind, plan.error);
  if (plan.zero_copy && plan.private_map) {
    if (auto view = private_file_view(src)) return *view;
    return src.copy();  // the system refused another map of the file (no descriptors or address space left)
  }
  if (plan.zero_copy) return src;
  if (plan.to == plan.from) return src.copy();
  cast_options options;
  options.rule = casting::unsafe;  // the plan already applied the caller's rule
  options.checked = plan.checked;
  return cast(src, plan.to, options);
}

tensor export_tensor(const tensor& src, const export_request& request) {
  return execute(src, plan_export(src, request));
}

}  // namespace tb
