from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_update_response import BatchUpdateResponse
from ...models.funnel_update_record import FunnelUpdateRecord
from ...models.inbound_error_body import InboundErrorBody
from ...models.single_update_response import SingleUpdateResponse
from ...types import Response


def _get_kwargs(
    *,
    body: FunnelUpdateRecord,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/webhook-import/update",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody | None:
    if response.status_code == 200:

        def _parse_response_200(
            data: object,
        ) -> BatchUpdateResponse | SingleUpdateResponse:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_update_response_type_0 = (
                    SingleUpdateResponse.from_dict(data)
                )

                return componentsschemas_update_response_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_update_response_type_1 = BatchUpdateResponse.from_dict(
                data
            )

            return componentsschemas_update_response_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = InboundErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = InboundErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = InboundErrorBody.from_dict(response.json())

        return response_404

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
) -> Response[BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: FunnelUpdateRecord,
) -> Response[BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody]:
    """Moves one lead to a funnel stage. With a transform attached to the
    import, takes any body (JSON, a form, text) and answers as the batch
    endpoint does.

    Args:
        body (FunnelUpdateRecord): One funnel update: move this lead to this stage.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody]
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
    body: FunnelUpdateRecord,
) -> BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody | None:
    """Moves one lead to a funnel stage. With a transform attached to the
    import, takes any body (JSON, a form, text) and answers as the batch
    endpoint does.

    Args:
        body (FunnelUpdateRecord): One funnel update: move this lead to this stage.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: FunnelUpdateRecord,
) -> Response[BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody]:
    """Moves one lead to a funnel stage. With a transform attached to the
    import, takes any body (JSON, a form, text) and answers as the batch
    endpoint does.

    Args:
        body (FunnelUpdateRecord): One funnel update: move this lead to this stage.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: FunnelUpdateRecord,
) -> BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody | None:
    """Moves one lead to a funnel stage. With a transform attached to the
    import, takes any body (JSON, a form, text) and answers as the batch
    endpoint does.

    Args:
        body (FunnelUpdateRecord): One funnel update: move this lead to this stage.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchUpdateResponse | SingleUpdateResponse | InboundErrorBody
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
