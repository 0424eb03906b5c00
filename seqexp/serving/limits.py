"""The request size limit of ``seqexp serve``: a body over ``max_bytes`` is answered 413 before the
application reads it (a declared ``Content-Length`` at once; a chunked body as soon as it passes the
limit), so one request cannot hold the server's memory. The number of customers per request is
bounded by the request model (``max_length``), a 422 naming the limit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """ASGI middleware: read the whole body up to ``max_bytes``, then hand it on; 413 past the limit."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, size, at_least=True)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: wait for a disconnect, as the server would
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, size: int, at_least: bool = False) -> None:
        size_text = "" if at_least else f" of {size} bytes"
        msg = (f"the request body{size_text} is over the limit of {self.max_bytes} bytes (the server's "
               "--max-body-bytes); send fewer customers per request")  # fmt: skip
        payload = json.dumps(
            {"error": f"body: {msg}", "detail": [{"loc": ["body"], "msg": msg, "type": "too_large"}]}
        )
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload.encode()})
