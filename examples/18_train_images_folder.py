"""Train a small CNN from an image folder (root/<class>/<image>.jpg), in PyTorch and in Keras.

The folder is made here from the two photographs scikit-learn ships (class 0: china, 1: flower),
so the example runs anywhere. tensorbridge decodes on its threads, with the random crop, flip,
normalize and layout fused into the decode.
"""
import os
import tempfile

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images

import tensorbridge as tb

root = tempfile.mkdtemp()
rng = np.random.default_rng(0)
for label, pixels in zip(["china", "flower"], load_sample_images().images):
    os.makedirs(os.path.join(root, label))
    for i in range(24):
        x, y = int(rng.integers(0, 640 - 160)), int(rng.integers(0, 427 - 120))
        Image.fromarray(pixels[y : y + 120, x : x + 160]).save(os.path.join(root, label, f"{i}.jpg"), quality=90)

mean, std = [123.7, 116.3, 103.5], [58.4, 57.1, 57.4]


def images(layout: str) -> tb.Dataset:
    ds = tb.Dataset.from_image_folder(root).shuffle(seed=0)
    ds = ds.map(tb.ops.random_resized_crop(32, scale=(0.3, 1.0)), on="image").map(tb.ops.random_flip(1), on="image")
    ds = ds.map(tb.ops.normalize(mean, std), on="image")
    if layout == "CHW":
        ds = ds.map(tb.ops.permute(2, 0, 1), on="image")
    return ds.batch(16)


# PyTorch: (N, 3, 32, 32) float32 batches.
import torch  # noqa: E402

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(4),
    torch.nn.Flatten(), torch.nn.Linear(8 * 8 * 8, 2))
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
ds = images("CHW")
assert ds.class_names == ["china", "flower"]
for epoch in range(4):
    for x, y in ds.as_torch():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
print(f"torch: last loss {loss.item():.3f}")
assert loss.item() < 0.7

# Keras: (N, 32, 32, 3) float32 batches, channels last.
import tensorflow as tf  # noqa: E402

tf.keras.utils.set_random_seed(0)
keras_model = tf.keras.Sequential([
    tf.keras.Input((32, 32, 3)),
    tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
    tf.keras.layers.MaxPooling2D(4),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(2),
])
keras_model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                    loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
history = keras_model.fit(images("HWC").repeat().to_tf_dataset(), steps_per_epoch=3, epochs=4, verbose=0)
print(f"keras: last loss {history.history['loss'][-1]:.3f}")
assert history.history["loss"][-1] < 0.7
