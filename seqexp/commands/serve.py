"""``seqexp serve``: a completed run as an HTTP service (FastAPI on uvicorn; the ``serve`` extra).

The run is opened and its model loaded before the server starts, so a run that cannot be served
(not completed, a pickled model without ``--trust-run``, a source that generates its data) is one
line and exit code 2, never a half-started server. With ``--workers N`` uvicorn starts N processes
that each load the model once, through the import string ``seqexp.serving.app:app_from_environment``
and the settings in ``SEQEXP_SERVE``. The endpoints: docs/serve.md.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from seqexp.errors import UserError

INSTALL_HINT = "pip install 'seqexp[serve]' (or: pip install fastapi uvicorn)"


def require_serving() -> None:
    """FastAPI and uvicorn, or one line saying how to install them."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"serve: needs FastAPI and uvicorn ({exc.name} is not installed); {INSTALL_HINT}"
        ) from None


def run(
    run_dir: Path,
    *,
    host: str,
    port: int,
    workers: int,
    trust: bool,
    max_customers: int,
    max_body_bytes: int,
    quiet: bool,
) -> None:
    require_serving()
    import uvicorn
    from rich.markup import escape

    from seqexp.reporting.console import err
    from seqexp.serving.app import APP_FACTORY, ENV, Settings, create_app

    settings = Settings(str(Path(run_dir).resolve()), trust, max_customers, max_body_bytes)
    app = create_app(settings)  # opens the run and loads its model: its errors come before any server
    _check_port(host, port)
    if not quiet:
        line = (f"serving {Path(run_dir).name} at http://{host}:{port} with {workers} worker(s): "
                "POST /predict; GET /health, /metadata, /docs")  # fmt: skip
        err.print(f"[dim]{escape(line)}[/dim]", soft_wrap=True, highlight=False)
    level = "warning" if quiet else "info"
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=level, access_log=not quiet)
        return
    del app  # each worker process loads its own copy of the model
    os.environ[ENV] = settings.to_json()
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level=level,
                access_log=not quiet)  # fmt: skip


def _check_port(host: str, port: int) -> None:
    """The address is free (else one line now, rather than a log line from uvicorn after start-up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(
                f"--port: cannot listen on {host}:{port} ({exc.strerror}); pick another port"
            ) from None
