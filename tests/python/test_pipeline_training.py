"""Real training through the pipeline: PyTorch loops (one process, and DDP over two processes with
the gloo backend on 127.0.0.1) and Keras ``model.fit`` on scikit-learn's bundled digits."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import tensorbridge as tb


def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = load_digits()
    x, y = d.data.astype(np.float64), d.target.astype(np.int64)  # float64: the pipeline casts
    return x[:1500], y[:1500], x[1500:], y[1500:]


def test_torch_loop_reaches_a_sane_accuracy(torch):
    x, y, xt, yt = digits()
    torch.manual_seed(0)
    ds = (tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(32)
          .map(tb.ops.normalize(8.0, 8.0), on=0).prefetch(2))
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(8):
        for xb, yb in ds.as_torch():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
    with torch.no_grad():
        pred = model(torch.from_numpy(((xt - 8) / 8).astype(np.float32))).argmax(1).numpy()
    assert (pred == yt).mean() > 0.9


def test_keras_fit_reaches_a_sane_accuracy(tf):
    x, y, xt, yt = digits()
    tf.keras.utils.set_random_seed(0)
    ds = (tb.Dataset.from_tensor_slices((x, y)).shuffle(seed=0).batch(32)
          .map(tb.ops.normalize(8.0, 8.0), on=0).prefetch(2))
    model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(64, activation="relu"),
                                 tf.keras.layers.Dense(10)])
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(ds.to_tf_dataset(), epochs=8, verbose=0, shuffle=False)  # the pipeline shuffles
    _, acc = model.evaluate(((xt - 8) / 8).astype(np.float32), yt, verbose=0)
    assert acc > 0.9


_DDP_WORKER = textwrap.dedent("""
    import json, sys
    from datetime import timedelta
    import numpy as np, torch, torch.distributed as dist
    from sklearn.datasets import load_digits
    import tensorbridge as tb

    rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                            timeout=timedelta(seconds=60))
    torch.manual_seed(0)
    torch.set_num_threads(1)
    d = load_digits()
    x, y = (d.data / 16).astype(np.float32), d.target.astype(np.int64)
    index = np.arange(len(x))
    ds = (tb.Dataset.from_tensor_slices((x, y, index)).shuffle(seed=1).shard(distributed="auto")
          .batch(32).prefetch(2))
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=3e-3)
    seen, steps = [], []
    for epoch in range(6):
        samples, n = [], 0
        for xb, yb, ib in ds.as_torch():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(ddp(xb), yb).backward()
            opt.step()
            samples += ib.tolist()
            n += 1
        seen.append(samples)
        steps.append(n)
    with torch.no_grad():
        acc = (model(torch.from_numpy(x)).argmax(1).numpy() == y).mean()
    checksum = float(sum(p.double().sum() for p in model.parameters()))
    json.dump({"seen": seen, "steps": steps, "acc": float(acc), "checksum": checksum}, open(out, "w"))
    dist.destroy_process_group()
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_disjoint_complete_equal_steps(tmp_path: Path, torch):
    script = tmp_path / "worker.py"
    script.write_text(_DDP_WORKER)
    port = str(free_port())
    procs = [subprocess.Popen([sys.executable, str(script), str(r), port, str(tmp_path / f"rank{r}.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
    try:
        for p in procs:
            _, err = p.communicate(timeout=240)
            assert p.returncode == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    n = 1797
    assert ranks[0]["steps"] == ranks[1]["steps"] == [29] * 6  # ceil(ceil(1797 / 2) / 32)
    for epoch in range(6):
        a, b = (set(r["seen"][epoch]) for r in ranks)
        assert len(ranks[0]["seen"][epoch]) == len(ranks[1]["seen"][epoch]) == 899
        assert a | b == set(range(n)), "complete"
        assert len(a & b) == 1, "disjoint except the one sample padding wraps around"
    assert ranks[0]["seen"][0] != ranks[0]["seen"][1], "a new order each epoch"
    assert ranks[0]["checksum"] == pytest.approx(ranks[1]["checksum"], rel=1e-6), "DDP kept replicas in sync"
    assert ranks[0]["acc"] > 0.9
