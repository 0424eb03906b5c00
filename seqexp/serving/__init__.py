"""Serving a completed run: the scorer of rows or events already in memory (encoded as ``seqexp
predict`` encodes a file of them), the request models generated from the run's ``data_schema.json``,
the FastAPI application of ``seqexp serve`` and the MLflow pyfunc model of ``seqexp export``.

FastAPI, uvicorn and MLflow are optional extras (``serve``, ``mlflow``), imported only here and only
when a verb that needs them runs.
"""
