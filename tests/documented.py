"""Check a real answer against the connector's own OpenAPI document: its status is one the route
lists, its media type is the one listed for that status, and a JSON body has that shape."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import requests
from openapi_schema_validator import OAS30Validator


class Document:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self._validator = lru_cache(maxsize=None)(self._make_validator)

    def _make_validator(self, path: str, method: str, status: str, media: str) -> Any:
        schema = self.spec["paths"][path][method]["responses"][status]["content"][media]["schema"]
        return OAS30Validator({"allOf": [schema], "components": self.spec["components"]})

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        """Errors of ``instance`` against ``schema`` (refs resolved in the document)."""
        root = {"allOf": [schema], "components": self.spec["components"]}
        return [e.message for e in OAS30Validator(root).iter_errors(instance)]

    def check(self, path: str, method: str, response: requests.Response) -> None:
        """``response`` is an answer the document lists for the route, in its shape."""
        answers = self.spec["paths"][path][method]["responses"]
        status = str(response.status_code)
        assert status in answers, (path, response.status_code, response.text[:500])
        content = answers[status].get("content")
        if not content:
            return
        media = response.headers.get("Content-Type", "").split(";")[0]
        assert media in content, (path, status, media)
        text = response.content.decode("utf-8")  # strict: every answer is valid UTF-8
        if media == "application/json":
            body = response.json()
            problems = [e.message for e in self._validator(path, method, status, media)
                        .iter_errors(body)]  # fmt: skip
            assert not problems, (path, status, problems, text[:500])
