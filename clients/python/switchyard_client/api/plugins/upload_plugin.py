from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.plugin_view import PluginView
from ...models.upload_plugin_kind import UploadPluginKind
from ...models.upload_plugin_language import UploadPluginLanguage
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File | str | Unset = UNSET,
    name: str,
    kind: UploadPluginKind,
    fuel: int | Unset = UNSET,
    memory_bytes: int | Unset = UNSET,
    time_limit_ms: int | Unset = UNSET,
    output_bytes: int | Unset = UNSET,
    language: UploadPluginLanguage | Unset = UNSET,
    filename: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["name"] = name

    json_kind = kind.value
    params["kind"] = json_kind

    params["fuel"] = fuel

    params["memory_bytes"] = memory_bytes

    params["time_limit_ms"] = time_limit_ms

    params["output_bytes"] = output_bytes

    json_language: str | Unset = UNSET
    if not isinstance(language, Unset):
        json_language = language.value

    params["language"] = json_language

    params["filename"] = filename

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/plugins",
        "params": params,
    }

    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/octet-stream"
    if isinstance(body, str):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/typescript"
    if isinstance(body, File):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "application/wasm"
    if isinstance(body, str):
        _kwargs["content"] = body.payload
        headers["Content-Type"] = "text/javascript"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | PluginView | None:
    if response.status_code == 201:
        response_201 = PluginView.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = ErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | PluginView]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File | str | Unset = UNSET,
    name: str,
    kind: UploadPluginKind,
    fuel: int | Unset = UNSET,
    memory_bytes: int | Unset = UNSET,
    time_limit_ms: int | Unset = UNSET,
    output_bytes: int | Unset = UNSET,
    language: UploadPluginLanguage | Unset = UNSET,
    filename: str | Unset = UNSET,
) -> Response[ErrorBody | PluginView]:
    """Uploads a module (the raw `.wasm` bytes as the body), or a JavaScript or
    TypeScript script (its text as the body, with `language=js|ts` or a
    JavaScript or TypeScript content type), which the server builds into a
    module and keeps. The module is validated (imports, exports for its
    kind) and compiled before it is stored; a script with a syntax error is
    refused with its line and column.

    Args:
        name (str):
        kind (UploadPluginKind): What a plugin does, which decides the entry point it must export.
        fuel (int | Unset):
        memory_bytes (int | Unset):
        time_limit_ms (int | Unset):
        output_bytes (int | Unset):
        language (UploadPluginLanguage | Unset): The languages a script may be written in (as the
            `language` parameter
            names them; any case).
        filename (str | Unset):
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PluginView]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        kind=kind,
        fuel=fuel,
        memory_bytes=memory_bytes,
        time_limit_ms=time_limit_ms,
        output_bytes=output_bytes,
        language=language,
        filename=filename,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: File | str | Unset = UNSET,
    name: str,
    kind: UploadPluginKind,
    fuel: int | Unset = UNSET,
    memory_bytes: int | Unset = UNSET,
    time_limit_ms: int | Unset = UNSET,
    output_bytes: int | Unset = UNSET,
    language: UploadPluginLanguage | Unset = UNSET,
    filename: str | Unset = UNSET,
) -> ErrorBody | PluginView | None:
    """Uploads a module (the raw `.wasm` bytes as the body), or a JavaScript or
    TypeScript script (its text as the body, with `language=js|ts` or a
    JavaScript or TypeScript content type), which the server builds into a
    module and keeps. The module is validated (imports, exports for its
    kind) and compiled before it is stored; a script with a syntax error is
    refused with its line and column.

    Args:
        name (str):
        kind (UploadPluginKind): What a plugin does, which decides the entry point it must export.
        fuel (int | Unset):
        memory_bytes (int | Unset):
        time_limit_ms (int | Unset):
        output_bytes (int | Unset):
        language (UploadPluginLanguage | Unset): The languages a script may be written in (as the
            `language` parameter
            names them; any case).
        filename (str | Unset):
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PluginView
    """

    return sync_detailed(
        client=client,
        body=body,
        name=name,
        kind=kind,
        fuel=fuel,
        memory_bytes=memory_bytes,
        time_limit_ms=time_limit_ms,
        output_bytes=output_bytes,
        language=language,
        filename=filename,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: File | str | Unset = UNSET,
    name: str,
    kind: UploadPluginKind,
    fuel: int | Unset = UNSET,
    memory_bytes: int | Unset = UNSET,
    time_limit_ms: int | Unset = UNSET,
    output_bytes: int | Unset = UNSET,
    language: UploadPluginLanguage | Unset = UNSET,
    filename: str | Unset = UNSET,
) -> Response[ErrorBody | PluginView]:
    """Uploads a module (the raw `.wasm` bytes as the body), or a JavaScript or
    TypeScript script (its text as the body, with `language=js|ts` or a
    JavaScript or TypeScript content type), which the server builds into a
    module and keeps. The module is validated (imports, exports for its
    kind) and compiled before it is stored; a script with a syntax error is
    refused with its line and column.

    Args:
        name (str):
        kind (UploadPluginKind): What a plugin does, which decides the entry point it must export.
        fuel (int | Unset):
        memory_bytes (int | Unset):
        time_limit_ms (int | Unset):
        output_bytes (int | Unset):
        language (UploadPluginLanguage | Unset): The languages a script may be written in (as the
            `language` parameter
            names them; any case).
        filename (str | Unset):
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | PluginView]
    """

    kwargs = _get_kwargs(
        body=body,
        name=name,
        kind=kind,
        fuel=fuel,
        memory_bytes=memory_bytes,
        time_limit_ms=time_limit_ms,
        output_bytes=output_bytes,
        language=language,
        filename=filename,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: File | str | Unset = UNSET,
    name: str,
    kind: UploadPluginKind,
    fuel: int | Unset = UNSET,
    memory_bytes: int | Unset = UNSET,
    time_limit_ms: int | Unset = UNSET,
    output_bytes: int | Unset = UNSET,
    language: UploadPluginLanguage | Unset = UNSET,
    filename: str | Unset = UNSET,
) -> ErrorBody | PluginView | None:
    """Uploads a module (the raw `.wasm` bytes as the body), or a JavaScript or
    TypeScript script (its text as the body, with `language=js|ts` or a
    JavaScript or TypeScript content type), which the server builds into a
    module and keeps. The module is validated (imports, exports for its
    kind) and compiled before it is stored; a script with a syntax error is
    refused with its line and column.

    Args:
        name (str):
        kind (UploadPluginKind): What a plugin does, which decides the entry point it must export.
        fuel (int | Unset):
        memory_bytes (int | Unset):
        time_limit_ms (int | Unset):
        output_bytes (int | Unset):
        language (UploadPluginLanguage | Unset): The languages a script may be written in (as the
            `language` parameter
            names them; any case).
        filename (str | Unset):
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`
        body (File): A WebAssembly module (ABI v1), as its raw bytes
        body (str): A JavaScript or TypeScript plugin's source text (UTF-8): a transform exports
            `transform(config, request)`, a payload builder `buildPayload(config, event)`

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | PluginView
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            name=name,
            kind=kind,
            fuel=fuel,
            memory_bytes=memory_bytes,
            time_limit_ms=time_limit_ms,
            output_bytes=output_bytes,
            language=language,
            filename=filename,
        )
    ).parsed
