"""Object storage: reading a large ``.npy`` and a numeric CSV from a local S3 server (SeaweedFS,
started here on loopback) with tensorbridge against the usual Python routes, in one run, by
``_harness.measure``'s method (ratio = their time / tensorbridge's: > 1 means tensorbridge is faster).

    PYTHONPATH=build/dev/python .venv/bin/python bench/bench_s3.py [--mib 1024] [--csv-mib 500]

- ``.npy`` (``--mib``, float32): ``tb.load("s3://...")`` (one small GET for the header, then
  parallel ranged GETs into the tensor's buffer) vs boto3 ``download_file`` + ``np.load``, s3fs
  (``fsspec.open``) + ``np.load``, and ``pyarrow.fs.S3FileSystem`` + ``np.load``.
- CSV (``--csv-mib``, float64 written by ``np.savetxt``): ``tb.read_csv`` vs
  ``pandas.read_csv("s3://...", storage_options=...)`` (through s3fs); and, as ceilings, the
  download of the object alone and ``tb.read_csv`` of the same file on local disk.
- peak RSS growth of ``tb.load`` (a fresh process) against the array's size.

The server shares the machine's cores with the clients: the figures are a loopback lower bound
of network speed, not a model of a real S3 endpoint. Writes bench/results/bench_s3.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "python"))
import _harness
import tensorbridge as tb
from s3_server import start_s3_server

BUCKET = "bench"
WHY_NPY = "all read the same object from the same server into a NumPy-usable array"
WHY_CSV = "both read the object from the same server and parse it into float64 columns"

RSS_CODE = """
import sys, numpy as np, tensorbridge as tb
def status():
    out = {}
    for line in open('/proc/self/status'):
        k, _, v = line.partition(':')
        if k in ('VmRSS', 'VmHWM'):
            out[k] = int(v.split()[0]) * 1024
    return out
open('/proc/self/clear_refs', 'w').write('5')
before = status()['VmRSS']
t = tb.load(sys.argv[1], storage_options={'key': sys.argv[2], 'secret': sys.argv[3], 'endpoint_url': sys.argv[4]})
print(status()['VmHWM'] - before, t.nbytes)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mib", type=float, default=1024, help=".npy size in MiB (default 1024)")
    ap.add_argument("--csv-mib", type=float, default=500, help="CSV size in MiB, about (default 500)")
    args = ap.parse_args()

    import boto3  # noqa: F401  (contenders; imported before timing)
    import fsspec
    import pandas as pd
    import pyarrow.fs as pafs

    server = start_s3_server()
    rows: list[dict[str, Any]] = []
    try:
        client = server.client()
        client.create_bucket(Bucket=BUCKET)
        so = server.storage_options
        s3fs_options = {"key": server.key, "secret": server.secret, "client_kwargs": {"endpoint_url": server.endpoint}}
        arrow = pafs.S3FileSystem(access_key=server.key, secret_key=server.secret, scheme="http",
                                  endpoint_override=server.endpoint.removeprefix("http://"), region="us-east-1")
        with tempfile.TemporaryDirectory(prefix="bench_s3_") as d:
            n = max(256, int(args.mib * (1 << 20)) // 4 // 256 * 256)
            data = np.random.default_rng(0).standard_normal(n, dtype=np.float32).reshape(-1, 256)
            local = Path(d) / "big.npy"
            np.save(local, data)
            client.upload_file(str(local), BUCKET, "big.npy")
            local.unlink()
            del data
            url = f"s3://{BUCKET}/big.npy"
            scratch = Path(d) / "download.npy"

            def boto3_np() -> Any:
                client.download_file(BUCKET, "big.npy", str(scratch))
                return np.load(scratch)

            def s3fs_np() -> Any:
                with fsspec.open(url, "rb", **s3fs_options) as f:
                    return np.load(f)

            def arrow_np() -> Any:
                with arrow.open_input_file(f"{BUCKET}/big.npy") as f:
                    return np.load(f)

            label = f"{args.mib:g} MiB"
            r = _harness.measure({"tb": lambda: tb.load(url, storage_options=so), "boto3": boto3_np,
                                  "s3fs": s3fs_np, "pyarrow": arrow_np})
            for name, title in (("boto3", "boto3 download_file + np.load"), ("s3fs", "s3fs (fsspec.open) + np.load"),
                                ("pyarrow", "pyarrow.fs.S3FileSystem + np.load")):
                rows.append(_harness.row(f"s3 .npy {label}", "tb.load", title, r["tb"], r[name], why=WHY_NPY))

            # Peak RSS of tb.load in a fresh process: the array plus what the transfer holds.
            done = subprocess.run([sys.executable, "-c", RSS_CODE, url, server.key, server.secret, server.endpoint],
                                  capture_output=True, text=True, check=True)
            growth, nbytes = (int(x) for x in done.stdout.split())
            rows.append(_harness.row(f"s3 .npy {label} peak RSS", "tb.load peak RSS growth", "the array's bytes",
                                     _harness.stats([float(growth)]), _harness.stats([float(nbytes)]), metric="bytes",
                                     why="peak memory while loading, against the array itself (ratio < 1: overhead)"))

            # CSV.
            cols = 8
            rows_n = max(100, int(args.csv_mib * (1 << 20)) // (cols * 25))
            table = np.random.default_rng(1).standard_normal((rows_n, cols))
            csv = Path(d) / "t.csv"
            np.savetxt(csv, table, delimiter=",", header=",".join(f"c{i}" for i in range(cols)), comments="")
            client.upload_file(str(csv), BUCKET, "t.csv")
            curl = f"s3://{BUCKET}/t.csv"
            size = csv.stat().st_size
            clabel = f"{size / (1 << 20):.0f} MB CSV"
            r = _harness.measure({
                "tb": lambda: np.asarray(tb.read_csv(curl, storage_options=so)["c3"]),
                "pandas": lambda: pd.read_csv(curl, storage_options=s3fs_options)["c3"].to_numpy(),
                "download": lambda: tb._ext.read_object(curl, tb.storage_options_of(so)),
                "local": lambda: np.asarray(tb.read_csv(csv)["c3"]),
            }, unchecked=("download",))
            rows.append(_harness.row(f"s3 {clabel}", "tb.read_csv", "pandas.read_csv(s3://, storage_options)",
                                     r["tb"], r["pandas"], why=WHY_CSV))
            rows.append(_harness.row(f"s3 {clabel}", "tb.read_csv", "download alone (tb, parallel GETs)",
                                     r["tb"], r["download"], ceiling=True,
                                     why="a ceiling: the bytes arriving, without parsing"))
            rows.append(_harness.row(f"s3 {clabel}", "tb.read_csv", "tb.read_csv of the local file",
                                     r["tb"], r["local"], ceiling=True,
                                     why="a ceiling: parsing alone, from the page cache"))
    finally:
        server.stop()

    for x in rows:
        unit = _harness.fmt_seconds if x["metric"] == "seconds" else (lambda b: f"{b / (1 << 20):.0f} MiB")
        print(f"{x['case']:<28} {x['ours']:<24} {unit(x['ours_stats']['median']):>10}  vs {x['anchor']:<42} "
              f"{unit(x['anchor_stats']['median']):>10}  ratio {x['ratio']:.2f}")
    out_dir = Path(os.environ.get("TB_BENCH_RESULTS") or HERE / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_s3.json").write_text(json.dumps(
        {"method": _harness.method(), "machine": _harness.machine(), "args": vars(args), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
