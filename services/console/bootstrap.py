"""The one place that builds the console from its settings, and serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.console.pages import ROUTERS
from services.console.pages.deps import FormRefused, SignInNeeded, render, sign_in_path
from services.console.sessions import COOKIE, SessionBox
from services.console.settings import Settings
from services.console.upstream import Upstream, UpstreamProblem
from shared.runtime.heap import freeze_start_up_heap
from shared.runtime.logging import configure_logging

HERE = Path(__file__).parent
# The pages load nothing from elsewhere (the machine may be offline) and may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def build(settings: Settings) -> FastAPI:
    """The console's app: its pages, static files, sessions and the APIs it calls."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.api_timeout_seconds) as http:
            app.state.upstream = Upstream(settings.urls(), http)
            yield

    app = FastAPI(title="OMS console", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.sessions = SessionBox(settings.session_key.get_secret_value())
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.secure_cookies = settings.secure_cookies
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in ROUTERS:
        app.include_router(router)
    _add_health(app)
    _add_handlers(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        answer = await call_next(request)
        answer.headers.update(SECURITY_HEADERS)
        return answer

    return app


def _add_health(app: FastAPI) -> None:
    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}  # no database, no broker: ready when it answers

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _add_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def to_sign_in(request: Request, error: SignInNeeded) -> Response:
        if request.method != "GET":
            return HTMLResponse("Signed out: sign in again.", status_code=401)
        return RedirectResponse(sign_in_path(error.next_path), status_code=303)

    @app.exception_handler(FormRefused)
    async def refused(request: Request, error: FormRefused) -> Response:
        return render(
            request,
            "problem.html",
            status_code=403,
            title="Form refused",
            detail="The form was not this session's (reload the page and try again).",
        )

    @app.exception_handler(UpstreamProblem)
    async def upstream(request: Request, error: UpstreamProblem) -> Response:
        if error.status == 401:  # the session's token expired or was revoked
            answer = RedirectResponse(sign_in_path(request.url.path), status_code=303)
            answer.delete_cookie(COOKIE)
            return answer
        status = error.status if error.status in (403, 404, 409, 422) else 502
        return render(
            request, "problem.html", status_code=status, title=error.title, detail=error.detail
        )

    @app.exception_handler(404)
    async def not_found(request: Request, error: Exception) -> Response:
        if request.url.path.startswith("/static/"):
            return JSONResponse({"detail": "not found"}, status_code=404)
        return render(
            request,
            "problem.html",
            status_code=404,
            title="Not found",
            detail=f"No page at {request.url.path}.",
        )


def serve(settings: Settings) -> None:
    """Entry point of `python -m services.console`."""
    configure_logging("oms_console", settings.log_level)
    app = build(settings)
    freeze_start_up_heap()
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None)
