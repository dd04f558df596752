from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.transform_test_request import TransformTestRequest
from ...models.transform_test_result import TransformTestResult
from ...types import Response


def _get_kwargs(
    import_id: str,
    *,
    body: TransformTestRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhook-imports/{import_id}/transform/test".format(
            import_id=quote(str(import_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | TransformTestResult | None:
    if response.status_code == 200:
        response_200 = TransformTestResult.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorBody.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorBody.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorBody.from_dict(response.json())

        return response_415

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
) -> Response[ErrorBody | TransformTestResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    import_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: TransformTestRequest,
) -> Response[ErrorBody | TransformTestResult]:
    """Runs a transform (the attached one, or the one named) on a sample
    request in the sandbox, and reports the records it returned, what each
    would do, and the plugin's logs or named error. Writes nothing.

    Args:
        import_id (str):
        body (TransformTestRequest): A transform to try on a sample request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TransformTestResult]
    """

    kwargs = _get_kwargs(
        import_id=import_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    import_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: TransformTestRequest,
) -> ErrorBody | TransformTestResult | None:
    """Runs a transform (the attached one, or the one named) on a sample
    request in the sandbox, and reports the records it returned, what each
    would do, and the plugin's logs or named error. Writes nothing.

    Args:
        import_id (str):
        body (TransformTestRequest): A transform to try on a sample request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TransformTestResult
    """

    return sync_detailed(
        import_id=import_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    import_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: TransformTestRequest,
) -> Response[ErrorBody | TransformTestResult]:
    """Runs a transform (the attached one, or the one named) on a sample
    request in the sandbox, and reports the records it returned, what each
    would do, and the plugin's logs or named error. Writes nothing.

    Args:
        import_id (str):
        body (TransformTestRequest): A transform to try on a sample request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | TransformTestResult]
    """

    kwargs = _get_kwargs(
        import_id=import_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    import_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: TransformTestRequest,
) -> ErrorBody | TransformTestResult | None:
    """Runs a transform (the attached one, or the one named) on a sample
    request in the sandbox, and reports the records it returned, what each
    would do, and the plugin's logs or named error. Writes nothing.

    Args:
        import_id (str):
        body (TransformTestRequest): A transform to try on a sample request.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | TransformTestResult
    """

    return (
        await asyncio_detailed(
            import_id=import_id,
            client=client,
            body=body,
        )
    ).parsed
