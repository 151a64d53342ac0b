"""Step (c) of the demo: the same small classifier trained on the same ``tb.Dataset`` pipeline in
PyTorch (a plain loop), TensorFlow (``model.fit``) and JAX (softmax regression with ``jax.grad``).

Every trainer takes the pipeline and the held-out data and returns the held-out accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tensorbridge as tb

from .progress import Progress


@dataclass
class Task:
    """What every trainer gets: the training pipeline (normalised float32 features, int64 labels),
    the held-out set (normalised the same way), and the sizes."""

    train: tb.Dataset
    test_x: np.ndarray
    test_y: np.ndarray
    num_features: int
    num_classes: int
    epochs: int
    seed: int = 0


def _accuracy(predicted: Any, truth: np.ndarray) -> float:
    return float(np.mean(np.asarray(predicted) == truth))


def train_torch(task: Task) -> float:
    """A two-layer MLP trained with Adam in a plain PyTorch loop over ``ds.as_torch()``."""
    import torch

    torch.manual_seed(task.seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(task.num_features, 64), torch.nn.ReLU(), torch.nn.Linear(64, task.num_classes)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    with Progress(task.epochs * task.train.batches_per_epoch, "torch", "batch") as bar:
        for _ in range(task.epochs):
            for xb, yb in task.train.as_torch():  # each new iteration is the next, reshuffled epoch
                loss = loss_fn(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update()
            bar.set_postfix(f"loss {loss.item():.3f}")
    with torch.no_grad():
        logits = model(tb.to_torch(task.test_x))
    return _accuracy(logits.argmax(dim=1).numpy(), task.test_y)


def train_tensorflow(task: Task) -> float:
    """The same MLP in Keras, trained by ``model.fit(ds.to_tf_dataset())``."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(task.seed)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(task.num_features,)),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(task.num_classes),
    ])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    with Progress(task.epochs * task.train.batches_per_epoch, "tensorflow", "batch") as bar:

        class _Bar(tf.keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
                bar.update()

            def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
                bar.set_postfix(f"loss {(logs or {}).get('loss', float('nan')):.3f}")

        # shuffle=False: the tensorbridge pipeline already reshuffles every epoch.
        model.fit(task.train.to_tf_dataset(), epochs=task.epochs, shuffle=False, verbose=0, callbacks=[_Bar()])
    logits = model(tb.to_tf(task.test_x), training=False)
    return _accuracy(tb.to_numpy(logits).argmax(axis=1), task.test_y)


def train_jax(task: Task) -> float:
    """Softmax regression: gradient descent with ``jax.grad`` over ``ds.as_jax()`` batches."""
    import jax
    import jax.numpy as jnp

    def loss_fn(params: tuple[Any, Any], x: Any, y: Any) -> Any:
        w, b = params
        logp = jax.nn.log_softmax(x @ w + b)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    @jax.jit
    def step(params: tuple[Any, Any], x: Any, y: Any) -> tuple[tuple[Any, Any], Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        return tuple(p - 0.2 * g for p, g in zip(params, grads)), loss

    params = (jnp.zeros((task.num_features, task.num_classes)), jnp.zeros(task.num_classes))
    with Progress(task.epochs * task.train.batches_per_epoch, "jax", "batch") as bar:
        for _ in range(task.epochs):
            for xb, yb in task.train.as_jax():
                params, loss = step(params, xb, yb)
                bar.update()
            bar.set_postfix(f"loss {float(loss):.3f}")
    w, b = params
    logits = tb.to_jax(task.test_x) @ w + b
    return _accuracy(tb.to_numpy(jnp.argmax(logits, axis=1)), task.test_y)


#: framework -> (what is trained, trainer), in the order the demo runs them.
TRAINERS: dict[str, tuple[str, Callable[[Task], float]]] = {
    "torch": ("MLP, plain loop over ds.as_torch()", train_torch),
    "tensorflow": ("Keras MLP, model.fit(ds.to_tf_dataset())", train_tensorflow),
    "jax": ("softmax regression, jax.grad over ds.as_jax()", train_jax),
}
