"""Calls to a carrier's API: transient failures (timeouts, 5xx, 429) retried, refusals raised."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import structlog
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from services.fulfillment_service.domain import CarrierUnavailableError

log = structlog.get_logger(__name__)


class TransientCarrierError(Exception):
    """The carrier did not answer, or answered 5xx/429: the same call may be tried again."""


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    carrier: str,
    attempts: int = 3,
    before_retry: Callable[[], httpx.Response | None] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The carrier's answer (2xx or a refusal, 4xx), after retrying transient failures.

    `before_retry` runs before each retry and may answer instead (a buy that went through
    although its answer was lost is found, not bought again).
    """
    retrying = Retrying(
        retry=retry_if_exception_type(TransientCarrierError),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=False,
    )
    first = True
    try:
        for attempt in retrying:
            with attempt:
                if not first and before_retry is not None:
                    found = before_retry()
                    if found is not None:
                        return found
                first = False
                return _once(client, method, url, carrier, **kwargs)
    except RetryError as error:
        cause = error.last_attempt.exception()
        raise CarrierUnavailableError(
            f"{carrier} did not answer {method} {httpx.URL(url).path} after {attempts} tries: "
            f"{cause}; nothing was bought, try again"
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _once(
    client: httpx.Client, method: str, url: str, carrier: str, **kwargs: Any
) -> httpx.Response:
    try:
        response = client.request(method, url, **kwargs)
    except httpx.TransportError as error:  # timeouts, refused connections, broken answers
        log.warning("carrier call failed", carrier=carrier, url=url, error=str(error))
        raise TransientCarrierError(f"{type(error).__name__}: {error}") from error
    if response.status_code >= 500 or response.status_code == 429:
        log.warning("carrier answered", carrier=carrier, url=url, status=response.status_code)
        raise TransientCarrierError(f"HTTP {response.status_code}")
    return response
