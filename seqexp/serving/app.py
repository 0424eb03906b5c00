"""The ``seqexp serve`` application (FastAPI): ``POST /predict``, ``GET /health``, ``GET /metadata``
and the OpenAPI schema (``/openapi.json``, ``/docs``), whose request model is generated from the
run's ``data_schema.json`` (``seqexp.serving.requests``).

Answers for people and programs alike: bad input is a 422 whose ``error`` line names the field and
what was expected (``detail`` lists every problem, FastAPI's shape); a body over the size limit is a
413 naming the limit; more customers than allowed a 422 naming it; an unknown category is no error
(counted in ``unseen_levels``, encoded as ``predict`` does). Nothing answers with a traceback: an
unexpected failure is a 500 saying to look at the server's log, where the traceback goes.

``create_app(settings)`` builds the app around a loaded run; ``app_from_environment`` is the import
string uvicorn's worker processes call (``--workers N``), reading the settings from ``SEQEXP_SERVE``.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from seqexp.errors import UserError
from seqexp.serving.about import describe
from seqexp.serving.limits import BodyLimit
from seqexp.serving.requests import RawColumns, frame_of, requested_ids, validator
from seqexp.serving.scorer import Scorer

ENV = "SEQEXP_SERVE"
APP_FACTORY = "seqexp.serving.app:app_from_environment"
MAX_PROBLEMS = 20  # problems listed in a 422's detail
UNION_MEMBERS = ("str", "int", "float", "bool", "none")
log = logging.getLogger("seqexp.serve")


@dataclass(frozen=True)
class Settings:
    """What ``seqexp serve`` was asked for; travels to worker processes as JSON in ``SEQEXP_SERVE``."""

    run: str
    trust: bool = False
    max_customers: int = 1000
    max_body_bytes: int = 16 * 2**20

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> Settings:
        text = os.environ.get(ENV)
        if not text:
            raise RuntimeError(f"{ENV} is not set: start the service with `seqexp serve RUN`")
        return cls(**json.loads(text))


def app_from_environment() -> FastAPI:
    """uvicorn's app factory for worker processes (``--workers N``)."""
    return create_app(Settings.from_environment())


def create_app(settings: Settings, scorer: Scorer | None = None) -> FastAPI:
    """The service around one run, its model loaded once (``UserError`` when the run cannot be served)."""
    scorer = scorer or Scorer.open(Path(settings.run), trust=settings.trust)
    columns = scorer.columns
    check = validator(columns, max_customers=settings.max_customers)
    about = describe(scorer, limits={"max_customers": settings.max_customers,
                                     "max_body_bytes": settings.max_body_bytes})  # fmt: skip
    name = scorer.run.folder.name
    app = FastAPI(
        title=f"seqexp: {name}",
        version=str(about["versions"]["serving"].get("seqexp", "")),
        description=f"Scores customers with the run {name} ({about['model']}); POST /predict. "
        "Inputs are the raw columns of the run's data config, encoded as `seqexp predict` encodes a file.",
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _failures(app)
    row_model = _row_model(scorer.header)
    answer = create_model(
        "PredictResponse",
        run=(str, Field(description="The run folder's name.")),
        customers=(list[row_model], Field(description="One row per customer scored, in request order.")),  # type: ignore[valid-type]
        as_of=(str | None, Field(None, description="Events: histories were built strictly before it.")),
        unseen_levels=(dict[str, int], Field(description="Per column, values never seen in training.")),
        left_out=(list[dict[str, Any]], Field(description="Customers not scored, and why.")),
        notes=(list[str], Field(description="What the encoding noted (imputed values, unseen levels).")),
    )  # fmt: skip

    @app.get("/health")
    def health() -> dict[str, Any]:
        """The service is up and its model loaded."""
        return {"status": "ok", "run": name}

    @app.get("/metadata")
    def metadata() -> dict[str, Any]:
        """The model, its threshold and rule, calibration, data fingerprint, test metrics, versions."""
        return about

    @app.post("/predict", response_model=answer, responses=ERRORS)
    async def predict(request: Request) -> JSONResponse:
        """Score one or many customers (the run's raw columns; see the request schema)."""
        raw = await request.body()  # validated below, straight from the bytes (the schema: PredictRequest)
        kind = request.headers.get("content-type", "none")
        return await run_in_threadpool(_predict, scorer, check, raw, name, settings, kind)

    app.openapi = _openapi(app, check)  # type: ignore[method-assign]
    return app


def _predict(
    scorer: Scorer, check: TypeAdapter, raw: bytes, name: str, settings: Settings, content_type: str
) -> JSONResponse:
    columns = scorer.columns
    try:
        body = check.validate_json(raw)
    except ValidationError as exc:
        return _invalid(exc, columns, settings, content_type)
    ids = requested_ids(body, columns)
    seen: dict[Any, int] = {}
    for i, cid in enumerate(ids):
        if cid in seen:
            return _problem(422, ["body", "customers", i, columns.id or "id"], f"{cid!r} is also customer "
                            f"{seen[cid]}; send each customer once", "duplicate_id")  # fmt: skip
        seen[cid] = i
    frame = frame_of(body, columns)
    try:
        batch = scorer.score_frame(frame, as_of=body.get("as_of"), explain=body.get("explain"))
    except UserError as exc:
        text = str(exc)
        if body.get("explain") and ("cannot be explained" in text or "explain covers" in text):
            return _problem(422, ["body", "explain"], text.split(": ", 1)[-1], "not_available")
        if text.startswith("as_of: "):
            return _problem(422, ["body", "as_of"], text[len("as_of: ") :], "date")
        loc, msg = _bad_time(frame, body, columns) or (["body"], text)
        return _problem(422, loc, msg, "data")
    by_id = {row["id"]: row for row in batch.rows}
    ordered = [by_id[cid] for cid in ids if cid in by_id] if len(by_id) == len(batch.rows) else batch.rows
    why = f"no event before {batch.as_of}" + (" that the run's where filter keeps" if columns.where else "")
    left = [{"id": cid, "reason": why} for cid in ids if cid not in by_id]
    answer = {"run": name, "customers": ordered, "as_of": batch.as_of, "unseen_levels": batch.unseen_levels,
              "left_out": left, "notes": batch.notes}  # fmt: skip
    return JSONResponse(answer)


def _bad_time(frame: Any, body: dict[str, Any], columns: RawColumns) -> tuple[list[Any], str] | None:
    """Where the first timestamp that does not parse sits (``customers.i.events.j.TIME``) and what
    was expected, if a timestamp is the problem."""
    import numpy as np
    import pandas as pd

    if columns.time is None:
        return None
    text = frame[columns.time].astype(str).str.strip()
    bad = pd.to_datetime(text, format=columns.time_format, errors="coerce").isna().to_numpy()
    if not bad.any():
        return None
    row = int(bad.argmax())
    counts = [0] + [len(c["events"]) for c in body["customers"]]
    starts = np.cumsum(np.asarray(counts, dtype=np.int64))
    customer = int(np.searchsorted(starts, row, side="right")) - 1
    where = ["body", "customers", customer, "events", row - int(starts[customer]), columns.time]
    return where, f"{text.iloc[row]!r} is not {columns.expected(columns.time)}"


def _problem(status: int, loc: list[Any], msg: str, kind: str) -> JSONResponse:
    where = ".".join(str(part) for part in loc if part != "body") or "body"
    return JSONResponse({"error": f"{where}: {msg}", "detail": [{"loc": loc, "msg": msg, "type": kind}]},
                        status_code=status)  # fmt: skip


ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The body is over the size limit (the server's --max-body-bytes)."},
    422: {"description": "Bad input: `error` names the field and what was expected; `detail` lists all."},
    500: {"description": "An unexpected failure; the traceback is in the server's log, not here."},
}


def _failures(app: FastAPI) -> None:
    @app.exception_handler(Exception)
    def failed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected failure on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"error": f"internal error ({type(exc).__name__}); the traceback is in the server's log"},
            status_code=500,
        )


def _invalid(
    exc: ValidationError, columns: RawColumns, settings: Settings, content_type: str
) -> JSONResponse:
    """A 422: the first problem in one line, every problem (one per place) in ``detail``."""
    problems: dict[tuple, dict[str, Any]] = {}  # a union's members say it once
    for error in exc.errors():
        problem = _explained(error, columns, settings, content_type)
        problems.setdefault(tuple(problem["loc"]), problem)
    listed = list(problems.values())
    first = listed[0]
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "body"
    more = len(listed) - 1
    line = f"{where}: {first['msg']}" + (f" (and {more} more problem(s) in detail)" if more > 0 else "")
    return JSONResponse({"error": line, "detail": listed[:MAX_PROBLEMS]}, status_code=422)


def _openapi(app: FastAPI, check: TypeAdapter) -> Any:
    """The OpenAPI schema with ``POST /predict``'s body: the validator's own JSON schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)  # fmt: skip
            body = check.json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["PredictRequest"] = body
            ref = {"$ref": "#/components/schemas/PredictRequest"}
            schema["paths"]["/predict"]["post"]["requestBody"] = {
                "required": True, "content": {"application/json": {"schema": ref}}}  # fmt: skip
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _explained(error: Any, columns: RawColumns, settings: Settings, content_type: str) -> dict[str, Any]:
    """pydantic's problem with the expected value in words where pydantic says less."""
    loc, kind, msg = ["body", *error.get("loc", ())], error.get("type", ""), error.get("msg", "")
    if len(loc) > 2 and loc[-1] in UNION_MEMBERS:  # pydantic names the member of a union tried
        loc = loc[:-1]
    last = str(loc[-1])
    if kind == "json_invalid":
        hint = "" if "json" in content_type else f"; send JSON (this request's Content-Type: {content_type})"
        msg = f"not valid JSON ({error.get('ctx', {}).get('error', msg)}){hint}"
    elif loc == ["body"] and kind in ("model_attributes_type", "dict_type", "missing"):
        msg = 'expected a JSON object {"customers": [...]}'
    elif kind == "missing":
        expected = columns.expected(last)
        msg = f"required: {expected}" if expected else "required"
    elif kind == "too_long" and loc[-1:] == ["customers"]:
        msg = (f"at most {settings.max_customers} customers per request (the server's --max-customers); "
               "split the batch")  # fmt: skip
    elif kind == "extra_forbidden" and len(loc) == 2:
        allowed = "customers, as_of, explain" if columns.kind == "events" else "customers, explain"
        msg = f"unknown key; a request holds {allowed}"
    elif kind == "too_short" and loc[-1:] == ["customers"]:
        msg = "at least one customer"
    elif (expected := columns.expected(last)) and kind != "too_short":
        msg = f"{msg}; expected {expected}"
    return {"loc": loc, "msg": msg, "type": kind}


def _row_model(header: list[str]) -> type[BaseModel]:
    kinds = {"id": (str | int, "The customer's id (its position in the request for a table without ids)."),
             "score": (float, "The model's score (6 decimals, as predict writes it)."),
             "probability": (float, "The calibrated probability."),
             "y_pred": (int | str, "The decision: 1 at or above the run's threshold (binary), or the class."),
             "risk": (str, "The risk level of the calibrated probability."),
             "p_pred": (float, "The probability of the predicted class.")}  # fmt: skip
    fields = {n: (kinds[n][0], Field(description=kinds[n][1])) for n in header if n in kinds}
    return create_model("ScoredCustomer", **fields)  # type: ignore[call-overload]
