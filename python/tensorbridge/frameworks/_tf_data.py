"""A tb.Dataset as a ``tf.data.Dataset`` that ``model.fit`` accepts (``Dataset.to_tf_dataset``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._common import require


def tf_dataset(ds: Any) -> Any:
    """``ds`` (a ``tb.Dataset``) as a ``tf.data.Dataset`` made with ``from_generator``, its
    cardinality set when the iteration is finite; each of its iterations is a new epoch of ``ds``."""
    tf = require("tensorflow")
    spec = _signature(ds, tf)

    def generate() -> Iterator[Any]:
        with ds.as_numpy() as it:
            yield from it

    out = tf.data.Dataset.from_generator(generate, output_signature=spec)
    if ds._c.iteration_length >= 0:  # Keras needs the length to know where an epoch ends
        out = out.apply(tf.data.experimental.assert_cardinality(ds._c.iteration_length))
    return out


def _signature(ds: Any, tf: Any) -> Any:
    """The ``output_signature`` of ``ds``'s batches: from its element spec, or, when Python
    callables decide the output, from the first batch of epoch 0."""
    batch = ds._c.batch_size if ds._c.batched and ds._c.drop_remainder else None
    if not ds._steps:
        specs = [tf.TensorSpec(shape=((batch,) if ds._c.batched else ()) + tuple(s), dtype=d)
                 for _, d, s in ds._c.element_spec]
        return ds._structure(specs)
    first = ds._first_batch()
    leaves = first if ds._kind == "tuple" else (first.values() if ds._kind == "dict" else [first])
    specs = [tf.TensorSpec(shape=(batch,) + tuple(x.shape[1:]), dtype=x.dtype) for x in leaves]
    return ds._structure(specs)
