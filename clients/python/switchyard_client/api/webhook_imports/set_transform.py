from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.attach_transform import AttachTransform
from ...models.error_body import ErrorBody
from ...models.webhook_import_view import WebhookImportView
from ...types import Response


def _get_kwargs(
    import_id: str,
    *,
    body: AttachTransform,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/webhook-imports/{import_id}/transform".format(
            import_id=quote(str(import_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ErrorBody | WebhookImportView | None:
    if response.status_code == 200:
        response_200 = WebhookImportView.from_dict(response.json())

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
) -> Response[ErrorBody | WebhookImportView]:
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
    body: AttachTransform,
) -> Response[ErrorBody | WebhookImportView]:
    """Attaches a transform: from now on both inbound endpoints accept any body
    and the plugin turns it into funnel updates. With a `sample`, the
    transform is first run on it and attached only if it returns records.

    Args:
        import_id (str):
        body (AttachTransform): A transform to attach, optionally tried on a sample request first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | WebhookImportView]
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
    body: AttachTransform,
) -> ErrorBody | WebhookImportView | None:
    """Attaches a transform: from now on both inbound endpoints accept any body
    and the plugin turns it into funnel updates. With a `sample`, the
    transform is first run on it and attached only if it returns records.

    Args:
        import_id (str):
        body (AttachTransform): A transform to attach, optionally tried on a sample request first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | WebhookImportView
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
    body: AttachTransform,
) -> Response[ErrorBody | WebhookImportView]:
    """Attaches a transform: from now on both inbound endpoints accept any body
    and the plugin turns it into funnel updates. With a `sample`, the
    transform is first run on it and attached only if it returns records.

    Args:
        import_id (str):
        body (AttachTransform): A transform to attach, optionally tried on a sample request first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ErrorBody | WebhookImportView]
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
    body: AttachTransform,
) -> ErrorBody | WebhookImportView | None:
    """Attaches a transform: from now on both inbound endpoints accept any body
    and the plugin turns it into funnel updates. With a `sample`, the
    transform is first run on it and attached only if it returns records.

    Args:
        import_id (str):
        body (AttachTransform): A transform to attach, optionally tried on a sample request first.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ErrorBody | WebhookImportView
    """

    return (
        await asyncio_detailed(
            import_id=import_id,
            client=client,
            body=body,
        )
    ).parsed
