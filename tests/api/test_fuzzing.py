"""Schemathesis generates valid and invalid input for every API operation: never a 500.

Path parameters are acme's real ids, and the caller is acme's owner, so every request gets past
authorization and its body and query are really parsed and validated.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from bastion.api import api
from tests.tenancy.test_isolation_matrix import PARAMS

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1"))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
EXAMPLES = int(os.environ.get("BASTION_FUZZ_EXAMPLES", "12"))  # CI keeps it small; raise it to dig


def _send(client, case):
    url = case.formatted_path
    method = case.method.lower()
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    body = case.body
    if isinstance(body, schemathesis.core.NotSet) or body is None:
        return getattr(client, method)(url, query) if method == "get" else getattr(client, method)(
            url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""))
    if case.media_type == "multipart/form-data" and isinstance(body, dict):
        data = {}
        for name, value in body.items():
            if name == "file":
                raw = value if isinstance(value, bytes) else str(value).encode()
                data[name] = SimpleUploadedFile("upload.bin", raw, "text/csv")
            elif value is not None:
                data[name] = str(value)
        return client.post(url, data=data)
    if isinstance(body, bytes | str):
        return getattr(client, method)(url, data=body, content_type=case.media_type or "application/octet-stream")
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def _has_input(operation) -> bool:
    return bool(list(operation.iter_parameters())) or bool(operation.body)


# Invalid input can only be generated for an operation that takes some.
CASES = [(op, mode) for op in OPERATIONS for mode in GenerationMode if mode == GenerationMode.POSITIVE or _has_input(op)]


@pytest.mark.parametrize(("operation", "mode"), CASES, ids=lambda x: x.value if isinstance(x, GenerationMode) else f"{x.method.upper()} {x.path}")
def test_no_input_makes_a_server_error(operation, mode, world, client_for):
    client = client_for(world.acme.users["owner"])
    names = [p.name for p in operation.path_parameters]
    path_parameters = {name: str(PARAMS[name](world.acme)) for name in names}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data):
        case = data.draw(operation.as_strategy(mode, path_parameters=path_parameters))
        response = _send(client, case)
        assert response.status_code < 500, f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
        if response.status_code >= 400:
            assert "error" in response.json(), response.content[:300]

    run()
