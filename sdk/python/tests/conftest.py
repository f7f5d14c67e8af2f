"""Fixtures: a real `ovsr serve` for the session, and helpers to observe it."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc import aio

SDK_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BINARY = SDK_ROOT / "../../target/debug/ovsr"

_LISTENING = re.compile(r"listening addr=(\S+)")
_MEMORY_READS = re.compile(r'^ovsr_cache_(?:hits|misses)_total\{layer="memory"\} (\S+)$', re.M)


def ovsr_binary() -> Path:
    """The server binary the tests run: `OVSR_BIN`, or the debug build."""
    binary = Path(os.environ.get("OVSR_BIN", DEFAULT_BINARY)).resolve()
    if not binary.is_file():
        pytest.fail(
            f"no ovsr binary at {binary}: build it with "
            "`cargo build -p ovsr-server --bin ovsr` or set OVSR_BIN"
        )
    return binary


class Registry:
    """One `ovsr serve` process with its own data directory."""

    def __init__(self, listen: str, data_dir: Path) -> None:
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        command = [
            str(ovsr_binary()),
            "serve",
            "--listen",
            listen,
            "--data-dir",
            str(data_dir),
            "--shutdown-grace",
            "1s",
        ]
        self._log = self.log_path.open("wb")
        environment = {**os.environ, "NO_COLOR": "1", "RUST_LOG": "info"}
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=environment
        )
        self.address = ""

    def wait_until_listening(self, timeout: float = 60.0) -> str:
        """Waits for the "listening" log line; returns the bound address."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log_path.read_text(errors="replace"))
            if match is not None:
                self.address = match.group(1)
                return self.address
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"ovsr did not start; its log:\n{self.log_path.read_text()[-4000:]}")

    def memory_cache_reads(self) -> int:
        """Memory-layer hits plus misses: moves on every GetSchema served."""
        with urllib.request.urlopen(f"http://{self.address}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        values = _MEMORY_READS.findall(text)
        assert len(values) == 2, "metrics lack the memory cache counters"
        return sum(int(float(value)) for value in values)

    def stop(self) -> None:
        """Stops the process, gracefully first."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


@pytest.fixture(scope="session")
def scratch_dir() -> Iterator[Path]:
    """A temporary directory for the whole session."""
    with tempfile.TemporaryDirectory(prefix="ovsr-sdk-test-") as directory:
        yield Path(directory)


@pytest.fixture(scope="session")
def registry(scratch_dir: Path) -> Iterator[Registry]:
    """The registry every test talks to, on a free loopback port."""
    server = Registry("127.0.0.1:0", scratch_dir / "registry")
    server.wait_until_listening()
    yield server
    server.stop()


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses."""
    return f"t-{secrets.token_hex(6)}"


@dataclass
class RecordedCall:
    """One attempt of a unary call, as the client channel saw it."""

    method: str
    request: object
    response: object | None
    code: grpc.StatusCode


@dataclass
class CallRecorder(aio.UnaryUnaryClientInterceptor):
    """Records every unary attempt the client makes, with its outcome."""

    calls: list[RecordedCall] = field(default_factory=list)

    def attempts(self, method: str) -> list[RecordedCall]:
        """The recorded attempts of one method, named like `GetSchema`."""
        return [call for call in self.calls if call.method.endswith(f"/{method}")]

    async def intercept_unary_unary(  # type: ignore[override]
        self,
        continuation: object,
        client_call_details: aio.ClientCallDetails,
        request: object,
    ) -> object:
        method = client_call_details.method
        name = method.decode() if isinstance(method, bytes) else str(method)
        call = await continuation(client_call_details, request)  # type: ignore[operator]
        try:
            response = await call
            self.calls.append(RecordedCall(name, request, response, grpc.StatusCode.OK))
        except grpc.aio.AioRpcError as error:
            self.calls.append(RecordedCall(name, request, None, error.code()))
        return call


def free_port() -> int:
    """A loopback port free at the time of the call."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ManualClock:
    """A clock for the cache that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Moves the clock forward."""
        self.now += seconds
