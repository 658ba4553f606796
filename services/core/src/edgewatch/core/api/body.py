"""Large JSON request bodies decoded and validated in a parse worker, so the route's loop only checks instances.

FastAPI decodes a JSON body and validates it against the route's body type on the event loop: about 200 ms for a
1 MiB list of devices. A route of a router built with ``route_class=off_loop_bodies(workers)`` hands a JSON body
larger than ``INLINE_BYTES`` to a parse worker, which does the same two steps (``json.loads``, then the body type's
``validate_python``) and returns the validated models; FastAPI then validates those instances, which costs an
``isinstance`` per item. The answers are FastAPI's own: the same 400 messages for malformed JSON and invalid
fields, and 413 ``ParseTimeout`` / ``ParseMemoryLimit`` past the worker's budget (as for events). Smaller bodies
and other content types go the usual way.
"""

from __future__ import annotations

import email.message
import functools
import json
import pickle
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from edgewatch.common.service.worker import INLINE_BYTES, ParseWorkers

__all__ = ["off_loop_bodies", "validate_json_body"]


@functools.lru_cache(maxsize=32)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def validate_json_body(annotation: Any, body: bytes) -> tuple[str, Any]:
    """``("ok", value)``: ``body`` validated as ``annotation``; ``("invalid", errors)``: FastAPI's body error list;
    ``("unparsable", None)``: not text JSON can read (FastAPI answers 400 "There was an error parsing the body").

    Runs in a parse worker: a ValidationError does not pickle, so the errors come back as plain data.
    """
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as e:
        return "invalid", [
            {
                "type": "json_invalid",
                "loc": ("body", e.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": e.msg},
            }
        ]
    except ValueError:  # not UTF-8 / UTF-16 / UTF-32 text
        return "unparsable", None
    try:
        return "ok", _adapter(annotation).validate_python(doc, from_attributes=True)
    except ValidationError as e:
        errors = []
        for err in e.errors(include_url=False, include_input=False, include_context=False):
            errors.append({"type": err["type"], "loc": ("body", *err["loc"]), "msg": err["msg"]})
        return "invalid", errors


def _is_json(content_type: str | None) -> bool:
    """FastAPI's test for a JSON body (``application/json`` or ``application/*+json``)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def off_loop_bodies(workers: ParseWorkers, inline_bytes: int = INLINE_BYTES) -> type[APIRoute]:
    """A route class whose JSON bodies over ``inline_bytes`` are decoded and validated in ``workers``."""

    class OffLoopBodyRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            field = self.body_field
            if field is None or isinstance(field.field_info, params.Form):
                return handler  # no body, or a form (uploads have their own worker step)
            annotation = field.field_info.annotation
            try:
                pickle.dumps(annotation)
            except Exception:
                return handler  # a body type a worker cannot import is validated the usual way

            async def decode_then_handle(request: Request) -> Response:
                if request.method != "GET" and _is_json(request.headers.get("content-type")):
                    body = await request.body()
                    if len(body) > inline_bytes:
                        tag, value = await workers.run(validate_json_body, annotation, body, what="request body")
                        if tag == "invalid":
                            raise RequestValidationError(value, body=body)
                        if tag == "unparsable":
                            raise HTTPException(status_code=400, detail="There was an error parsing the body")
                        request._json = value  # FastAPI reads the body through request.json(): it gets the models
                return await handler(request)

            return decode_then_handle

    return OffLoopBodyRoute
