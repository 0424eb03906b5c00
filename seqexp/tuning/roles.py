"""Who this process is in a search: alone, the chief (serves keras-tuner's oracle) or a worker."""

from __future__ import annotations

import os
from dataclasses import dataclass

from seqexp.errors import UserError


@dataclass(frozen=True)
class Role:
    """Who this process is in a search: alone, the chief (serves the oracle) or a worker."""

    part: str  # "single" | "chief" | "worker"
    tuner_id: str = "tuner0"
    address: str = ""

    @property
    def writes_results(self) -> bool:
        return self.part != "worker"


def set_distributed_env(*, chief: bool, worker: str | None, chief_host: str | None, port: int) -> None:
    """Translate ``--chief`` / ``--worker ID --chief-host HOST --port N`` into keras-tuner's variables."""
    if chief and worker is not None:
        raise UserError("--chief and --worker exclude each other: a process is the chief or a worker")
    if not chief and worker is None:
        if chief_host is not None:
            raise UserError("--chief-host is for workers: add --worker ID (or --chief on the chief)")
        return
    if worker is not None:
        if chief_host is None:
            raise UserError("--worker needs --chief-host HOST: the address of the machine running --chief")
        if not worker.replace("-", "").replace("_", "").isalnum() or "chief" in worker:
            raise UserError(f"--worker {worker!r}: use letters, digits, - or _ (and not the word 'chief')")
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: not a TCP port (1-65535)")
    _require_grpc()
    os.environ["KERASTUNER_TUNER_ID"] = "chief" if chief else f"worker-{worker}"
    # The chief binds to this address (all interfaces unless --chief-host says otherwise).
    os.environ["KERASTUNER_ORACLE_IP"] = chief_host or ("0.0.0.0" if chief else "")
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def current_role() -> Role:
    """The role keras-tuner will see, from KERASTUNER_* (set by the flags, or by a cluster)."""
    ip = os.environ.get("KERASTUNER_ORACLE_IP")
    if not ip:
        return Role("single")
    port, tuner_id = os.environ.get("KERASTUNER_ORACLE_PORT"), os.environ.get("KERASTUNER_TUNER_ID")
    if not port or not tuner_id:
        raise UserError(
            "KERASTUNER_ORACLE_IP is set, so this is a distributed search, but KERASTUNER_ORACLE_PORT "
            "and KERASTUNER_TUNER_ID must be set too (or use --chief / --worker)"
        )
    _require_grpc()
    part = "chief" if "chief" in tuner_id else "worker"
    return Role(part, tuner_id, f"{ip}:{port}")


def _require_grpc() -> None:
    try:
        import grpc  # noqa: F401
        from keras_tuner.src import protos

        protos.get_service_grpc()
    except ImportError as exc:
        raise UserError(
            f"distributed tuning needs grpcio and protobuf (pip install grpcio protobuf): {exc}"
        ) from None
