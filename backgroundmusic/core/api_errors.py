"""The JSON API's one error envelope, `{"error": {"code", "message", "details"}}`: its schema,
which every router names for its error answers (one component in the OpenAPI schema), and its
body."""

from typing import Any

from ninja import Schema


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorBody


def error_envelope(code: str, message: str, details: object = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": details}}
