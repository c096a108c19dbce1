"""Signing in (a name and password, or an access token) and out."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.pages.calls import local
from services.console.pages.deps import FormDep, SessionDep, back, render, session_of
from services.console.sessions import COOKIE, Session, SessionBox, new_session
from services.console.upstream import Caller, Upstream, UpstreamProblem

router = APIRouter()
READY_WAIT_SECONDS = 5.0  # a new token reaches every service by the broker within this
TOKEN_SESSION_HOURS = 12  # a session of a pasted token lasts at most this long


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    """The orders page for the signed in, the sign-in page for the others."""
    return RedirectResponse("/orders" if session_of(request) else "/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str = "/orders") -> HTMLResponse:
    """The sign-in form."""
    return render(request, "sign_in.html", next=local(next, "/orders"))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    token: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/orders",
) -> Response:
    """Sign in with a name and password (a session token from the gateway) or a token."""
    upstream: Upstream = request.app.state.upstream
    try:
        session = await (
            _with_token(upstream, token.strip())
            if token.strip()
            else _with_password(upstream, name.strip(), password)
        )
        await _until_accepted(upstream.as_user(session.token))
    except UpstreamProblem as problem:
        return render(
            request,
            "sign_in.html",
            status_code=401,
            next=local(next, "/orders"),
            name=name,
            failure=problem.detail,
        )
    answer = RedirectResponse(local(next, "/orders"), status_code=303)
    _set_cookie(request, answer, session)
    return answer


@router.post("/sign-out")
async def sign_out(request: Request, session: SessionDep, fields: FormDep) -> Response:
    """End the session: its token is revoked at the gateway, the cookie dropped."""
    upstream: Upstream = request.app.state.upstream
    if session.token_id:  # a pasted token is the user's own: it is not ended here
        with contextlib.suppress(UpstreamProblem):  # revoked already: nothing more to end
            await upstream.as_user(session.token).post("channel_gateway", "/sessions/end")
    answer = back("/sign-in", note="Signed out.")
    answer.delete_cookie(COOKIE)
    return answer


async def _with_password(upstream: Upstream, name: str, password: str) -> Session:
    """A session from the gateway's sign-in: a token issued for this console session."""
    issued = await upstream.anonymous().post(
        "channel_gateway", "/sessions", {"name": name, "password": password}
    )
    return new_session(
        issued["name"], issued["role"], issued["token"], issued["token_id"], issued["expires_at"]
    )


async def _with_token(upstream: Upstream, token: str) -> Session:
    """A session of a token the user already has (an API key, an OIDC token)."""
    me = await upstream.as_user(token).get("channel_gateway", "/me")
    until = datetime.now(UTC) + timedelta(hours=TOKEN_SESSION_HOURS)
    return new_session(me["name"], me["role"], token, "", until.isoformat())


async def _until_accepted(caller: Caller) -> None:
    """Wait until every service accepts the token (grants travel by the broker)."""
    deadline = asyncio.get_running_loop().time() + READY_WAIT_SECONDS
    for service in caller.upstream.urls:
        while True:
            try:
                await caller.get(service, "/me")
                break
            except UpstreamProblem:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)


def _set_cookie(request: Request, answer: Response, session: Session) -> None:
    box: SessionBox = request.app.state.sessions
    expires = datetime.fromisoformat(session.expires_at)
    answer.set_cookie(
        COOKIE,
        box.seal(session),
        max_age=max(0, int((expires - datetime.now(UTC)).total_seconds())),
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
    )
