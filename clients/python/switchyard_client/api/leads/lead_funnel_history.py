from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.funnel_history import FunnelHistory
from ...types import UNSET, Response, Unset


def _get_kwargs(
    lead_profile_uid: str,
    *,
    include_archived: bool | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["include_archived"] = include_archived

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/leads/{lead_profile_uid}/funnel-history".format(
            lead_profile_uid=quote(str(lead_profile_uid), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | FunnelHistory | None:
    if response.status_code == 200:
        response_200 = FunnelHistory.from_dict(response.json())

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

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | FunnelHistory]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    lead_profile_uid: str,
    *,
    client: AuthenticatedClient | Client,
    include_archived: bool | Unset = UNSET,
) -> Response[ErrorBody | FunnelHistory]:
    """The stages a lead reached, in order; archived events on request.

    Args:
        lead_profile_uid (str):
        include_archived (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | FunnelHistory]
    """

    kwargs = _get_kwargs(
        lead_profile_uid=lead_profile_uid,
        include_archived=include_archived,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    lead_profile_uid: str,
    *,
    client: AuthenticatedClient | Client,
    include_archived: bool | Unset = UNSET,
) -> ErrorBody | FunnelHistory | None:
    """The stages a lead reached, in order; archived events on request.

    Args:
        lead_profile_uid (str):
        include_archived (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | FunnelHistory
    """

    return sync_detailed(
        lead_profile_uid=lead_profile_uid,
        client=client,
        include_archived=include_archived,
    ).parsed


async def asyncio_detailed(
    lead_profile_uid: str,
    *,
    client: AuthenticatedClient | Client,
    include_archived: bool | Unset = UNSET,
) -> Response[ErrorBody | FunnelHistory]:
    """The stages a lead reached, in order; archived events on request.

    Args:
        lead_profile_uid (str):
        include_archived (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | FunnelHistory]
    """

    kwargs = _get_kwargs(
        lead_profile_uid=lead_profile_uid,
        include_archived=include_archived,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    lead_profile_uid: str,
    *,
    client: AuthenticatedClient | Client,
    include_archived: bool | Unset = UNSET,
) -> ErrorBody | FunnelHistory | None:
    """The stages a lead reached, in order; archived events on request.

    Args:
        lead_profile_uid (str):
        include_archived (bool | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | FunnelHistory
    """

    return (
        await asyncio_detailed(
            lead_profile_uid=lead_profile_uid,
            client=client,
            include_archived=include_archived,
        )
    ).parsed
