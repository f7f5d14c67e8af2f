"""Retrying unary calls: UNAVAILABLE only, with exponential backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from grpc import aio

from ovsr.errors import NotFound, RpcError

_log = logging.getLogger("ovsr.client")

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


@dataclass(frozen=True)
class RetryPolicy:
    """When and how fast a failed call is tried again.

    Only UNAVAILABLE is retried: the server was not reached or was shutting
    down, so the call had no effect. Every other code is the server's answer
    and is raised at once. Retries stop early when the next wait would pass
    the call's deadline.
    """

    #: Attempts in all, the first included; 1 turns retries off.
    max_attempts: int = 5
    #: Seconds before the first retry.
    initial_backoff: float = 0.1
    #: Ceiling on the seconds between two attempts.
    max_backoff: float = 2.0
    #: Growth of the wait from one retry to the next.
    multiplier: float = 2.0
    #: Fraction of each wait taken off at random, so that clients failed by
    #: the same outage do not retry in step; 0 makes waits exact.
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry`, counted from 1."""
        ceiling = self.initial_backoff * self.multiplier ** (retry - 1)
        return min(self.max_backoff, ceiling) * (1.0 - self.jitter * random.random())


def rpc_error(error: grpc.aio.AioRpcError, method: str) -> RpcError:
    """The SDK's error for a failed call."""
    code = error.code()
    details = error.details() or ""
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound(code, details, method)
    return RpcError(code, details, method)


async def call_unary(
    method: aio.UnaryUnaryMultiCallable[_Request, _Response],
    request: _Request,
    *,
    name: str,
    policy: RetryPolicy,
    timeout: float | None,
    metadata: Sequence[tuple[str, str]],
) -> _Response:
    """Runs one unary call, retrying UNAVAILABLE per `policy`.

    `timeout` is the deadline of the call as a whole, retries included.
    Raises `RpcError` (`NotFound` for NOT_FOUND) when the call fails.
    """
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    attempt = 1
    while True:
        remaining = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            return await method(request, timeout=remaining, metadata=metadata)
        except grpc.aio.AioRpcError as error:
            delay = policy.backoff(attempt)
            retryable = error.code() == grpc.StatusCode.UNAVAILABLE
            exhausted = attempt >= policy.max_attempts
            past_deadline = deadline is not None and loop.time() + delay >= deadline
            if not retryable or exhausted or past_deadline:
                raise rpc_error(error, name) from error
            _log.debug("retrying unavailable call method=%s attempt=%d delay=%.3f", name, attempt, delay)
        await asyncio.sleep(delay)
        attempt += 1
