"""A real ``seqexp serve`` process for the service tests: started on a free loopback port, called with
a real HTTP client (the standard library's urllib), stopped at the end."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, require

HOST = "127.0.0.1"


def require_serving() -> None:
    available = all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn"))
    require("FastAPI and uvicorn", available, "pip install -e '.[serve]'")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class Server:
    """``seqexp serve RUN --port P ...`` in a child process; ``call`` talks to it over HTTP."""

    def __init__(self, run: Path, *args: str, timeout: float = 180):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        command = [sys.executable, "-m", "seqexp", "serve", str(run), "--port", str(self.port), "-q", *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out, err = self.process.communicate()
                raise AssertionError(f"seqexp serve exited with {self.process.returncode}:\n{err}{out}")
            try:
                if self.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"seqexp serve did not answer /health within {timeout} s")

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        """(status, JSON answer); ``body`` is sent as JSON, ``raw`` as it is (an iterable: chunked)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = {"Content-Type": "application/json"} if data is not None else {}
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={**sent, **(headers or {})}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, json.loads(text) if text.startswith("{") else text

    def stop(self) -> tuple[int, str]:
        """Stop it as Ctrl+C would; its exit code and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        _, err = self.process.communicate()
        return self.process.returncode, err


def records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as JSON objects (numbers exact, missing values as null)."""
    import pandas as pd

    def plain(value: Any) -> Any:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def customers_of(log: Any, id_col: str) -> list[dict[str, Any]]:
    """An event log as the request's customers: ``{ID: ..., "events": [...]}`` in first-seen order."""
    out = []
    for cid, events in log.groupby(id_col, sort=False):
        out.append({id_col: cid, "events": records(events.drop(columns=[id_col]))})
    return out
