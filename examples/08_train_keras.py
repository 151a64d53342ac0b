"""Training a small Keras model on converted data (model.fit on a tb pipeline)."""
import numpy as np
import tensorflow as tf

import tensorbridge as tb

rng = np.random.default_rng(0)
X = rng.random((1000, 10))
y = (X[:, 0] + X[:, 1] > 1).astype(np.int32)
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([tf.keras.Input(shape=(10,)), tf.keras.layers.Dense(16, activation="relu"),
                             tf.keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
ds = tb.Dataset.from_tensor_slices((X, y)).shuffle(seed=0).batch(32).map(tb.ops.cast("float32"), on=0)
history = model.fit(ds.to_tf_dataset(), epochs=5, shuffle=False, verbose=0)
print("final accuracy", history.history["accuracy"][-1])
assert history.history["accuracy"][-1] > 0.85
