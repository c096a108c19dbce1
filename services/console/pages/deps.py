"""What every page gets: the signed-in session, the APIs as that user, the page renderer.

A page needs a session or redirects to the sign-in page; a form POST needs its session's CSRF
token. After an action the page redirects (303) back with a note or the API's problem, so a
reload never repeats the action.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from services.console.sessions import COOKIE, Session, SessionBox, csrf_matches
from services.console.upstream import Caller, Upstream


class SignInNeeded(Exception):
    """No session, or one that expired: the page sends the browser to sign in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class FormRefused(Exception):
    """A form POST without its session's CSRF token."""


def session_of(request: Request) -> Session | None:
    """The request's session, if its cookie holds a valid one."""
    box: SessionBox = request.app.state.sessions
    return box.open(request.cookies.get(COOKIE))


async def signed_in(request: Request) -> Session:
    """The signed-in user's session; SignInNeeded otherwise."""
    session = session_of(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    return session


SessionDep = Annotated[Session, Depends(signed_in)]


async def caller(request: Request, session: SessionDep) -> Caller:
    """The five APIs, called with the signed-in user's token."""
    upstream: Upstream = request.app.state.upstream
    return upstream.as_user(session.token)


CallerDep = Annotated[Caller, Depends(caller)]


async def form(request: Request, session: SessionDep) -> dict[str, str]:
    """A POSTed form's fields, once its CSRF token is its session's; FormRefused otherwise."""
    fields = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not csrf_matches(session, fields.pop("csrf_token", None)):
        raise FormRefused()
    return fields


FormDep = Annotated[dict[str, str], Depends(form)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page: the template with the session, its CSRF token and the note or problem."""
    templates: Jinja2Templates = request.app.state.templates
    session = session_of(request)
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "csrf_token": session.csrf if session else "",
            "note": request.query_params.get("note"),
            "problem": request.query_params.get("problem"),
            **context,
        },
        status_code=status_code,
    )


def back(path: str, *, note: str | None = None, problem: str | None = None) -> RedirectResponse:
    """A 303 to a page, with a note (done) or a problem (refused) to show."""
    query = urlencode({k: v for k, v in {"note": note, "problem": problem}.items() if v})
    joined = f"{path}{'&' if '?' in path else '?'}{query}"  # a path may carry its page's filters
    return RedirectResponse(joined if query else path, status_code=303)


def sign_in_path(next_path: str) -> str:
    """The sign-in page that comes back to `next_path`."""
    return f"/sign-in?next={quote(next_path, safe='')}"
