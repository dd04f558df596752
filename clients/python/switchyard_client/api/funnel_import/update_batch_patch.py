from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_update_request import BatchUpdateRequest
from ...models.batch_update_response import BatchUpdateResponse
from ...models.inbound_error_body import InboundErrorBody
from ...types import Response


def _get_kwargs(
    *,
    body: BatchUpdateRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/webhook-import/batch-update",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchUpdateResponse | InboundErrorBody | None:
    if response.status_code == 200:
        response_200 = BatchUpdateResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = InboundErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = InboundErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 413:
        response_413 = InboundErrorBody.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = InboundErrorBody.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = InboundErrorBody.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = InboundErrorBody.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = InboundErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BatchUpdateResponse | InboundErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchUpdateRequest,
) -> Response[BatchUpdateResponse | InboundErrorBody]:
    """Moves up to 100 leads; each record is applied on its own.

    Args:
        body (BatchUpdateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchUpdateResponse | InboundErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BatchUpdateRequest,
) -> BatchUpdateResponse | InboundErrorBody | None:
    """Moves up to 100 leads; each record is applied on its own.

    Args:
        body (BatchUpdateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchUpdateResponse | InboundErrorBody
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchUpdateRequest,
) -> Response[BatchUpdateResponse | InboundErrorBody]:
    """Moves up to 100 leads; each record is applied on its own.

    Args:
        body (BatchUpdateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchUpdateResponse | InboundErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchUpdateRequest,
) -> BatchUpdateResponse | InboundErrorBody | None:
    """Moves up to 100 leads; each record is applied on its own.

    Args:
        body (BatchUpdateRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchUpdateResponse | InboundErrorBody
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
