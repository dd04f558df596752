from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_body import ErrorBody
from ...models.lead_page import LeadPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    import_id: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    params["email"] = email

    params["external_id"] = external_id

    params["import_id"] = import_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/leads",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | LeadPage | None:
    if response.status_code == 200:
        response_200 = LeadPage.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 500:
        response_500 = ErrorBody.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ErrorBody | LeadPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    import_id: str | Unset = UNSET,
) -> Response[ErrorBody | LeadPage]:
    """Leads of the account, oldest first, a page at a time; `email`,
    `external_id` and `import_id` narrow the list, together.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        email (str | Unset):
        external_id (str | Unset):
        import_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | LeadPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        email=email,
        external_id=external_id,
        import_id=import_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    import_id: str | Unset = UNSET,
) -> ErrorBody | LeadPage | None:
    """Leads of the account, oldest first, a page at a time; `email`,
    `external_id` and `import_id` narrow the list, together.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        email (str | Unset):
        external_id (str | Unset):
        import_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | LeadPage
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        email=email,
        external_id=external_id,
        import_id=import_id,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    import_id: str | Unset = UNSET,
) -> Response[ErrorBody | LeadPage]:
    """Leads of the account, oldest first, a page at a time; `email`,
    `external_id` and `import_id` narrow the list, together.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        email (str | Unset):
        external_id (str | Unset):
        import_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | LeadPage]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        email=email,
        external_id=external_id,
        import_id=import_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    email: str | Unset = UNSET,
    external_id: str | Unset = UNSET,
    import_id: str | Unset = UNSET,
) -> ErrorBody | LeadPage | None:
    """Leads of the account, oldest first, a page at a time; `email`,
    `external_id` and `import_id` narrow the list, together.

    Args:
        limit (int | Unset):
        cursor (str | Unset):
        email (str | Unset):
        external_id (str | Unset):
        import_id (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | LeadPage
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            email=email,
            external_id=external_id,
            import_id=import_id,
        )
    ).parsed
