"""The web application: Starlette routes over a :class:`~qcode.serve.workbench.Workbench`.

Safety, because a local server is reachable by every web page the researcher opens:

* a random token (made per run) must come with every request, in the URL the first time; it
  is then kept in a same-site, HTTP-only cookie and taken out of the address bar;
* the ``Host`` header must name the address the server is bound to, so a page on another
  site cannot reach it through DNS rebinding;
* a write (POST) must come from the server's own origin (``Origin`` header) and carry the
  page's CSRF token in ``X-CSRF-Token``;
* static files are served from a fixed list of the files in ``static/``, nothing else;
* pages forbid framing, inline scripts and outside resources (Content-Security-Policy) and
  are never cached or sent as a referrer.

All database work runs in one worker thread with one connection (SQLite connections belong
to a thread); a write that meets another qcode process's lock waits for it (the store's busy
timeout) instead of failing, and a timed-out one answers 503 so the page can retry.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..errors import ProjectBusy, QcodeError, StoreError
from .workbench import Workbench

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
#: media types of the files we ship; anything else in static/ is not served.
MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class Settings:
    """What one run of the server was started with."""

    def __init__(
        self,
        *,
        token: str | None = None,
        csrf: str | None = None,
        hosts: Iterable[str] = ("127.0.0.1", "localhost"),
        port: int | None = None,
        blind: bool = False,
    ):
        self.token = token or secrets.token_urlsafe(32)
        self.csrf = csrf or secrets.token_urlsafe(32)
        self.port = port
        self.hosts = set(hosts)
        self.forced_blind = blind
        self.cookie = f"qcode_token_{port or 0}"

    def allowed_hosts(self) -> set[str]:
        """Host header values accepted: every bound name with the port (and without it on
        the default port, which browsers leave out)."""
        out = set()
        for host in self.hosts:
            shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
            out.add(f"{shown}:{self.port}" if self.port else shown)
            if self.port in (None, 80):
                out.add(shown)
        return out

    def allowed_origins(self) -> set[str]:
        return {f"http://{h}" for h in self.allowed_hosts()}


class SafetyMiddleware:
    """Host check, token check, origin and CSRF check on writes, security headers."""

    def __init__(self, app: Any, settings: Settings):
        self.app = app
        self.settings = settings
        self.workbench: Workbench | None = None
        self.database: ThreadPoolExecutor | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        settings = self.settings
        host = headers.get("host", "").lower()
        if host not in settings.allowed_hosts():
            await _plain(send, 400, "unknown host: open the address qcode serve printed")
            return
        method = scope["method"]
        if method not in ("GET", "HEAD", "POST"):
            await _plain(send, 405, "method not allowed")
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:
            cookie = SimpleCookie()
        given = (
            query.get("token")
            or headers.get("x-qcode-token")
            or (cookie[settings.cookie].value if settings.cookie in cookie else "")
        )
        if not given or not secrets.compare_digest(given.encode(), settings.token.encode()):
            await _plain(
                send, 403, "forbidden: open the address with ?token=... that qcode serve printed"
            )
            return
        if method == "POST":
            origin = headers.get("origin", "")
            if origin not in settings.allowed_origins():
                await _plain(send, 403, "forbidden: a write must come from the workbench page")
                return
            csrf = headers.get("x-csrf-token", "")
            if not csrf or not secrets.compare_digest(csrf.encode(), settings.csrf.encode()):
                await _plain(send, 403, "forbidden: missing or wrong CSRF token; reload the page")
                return
        if "token" in query and method == "GET":
            # keep the token in a cookie and out of the address bar (and of the history)
            rest = urlencode(
                [
                    (k, v)
                    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"))
                    if k != "token"
                ]
            )
            location = scope.get("root_path", "") + scope["path"] + (f"?{rest}" if rest else "")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        (
                            b"set-cookie",
                            (
                                f"{settings.cookie}={settings.token}; Path=/; HttpOnly; "
                                "SameSite=Strict"
                            ).encode("latin-1"),
                        ),
                        *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()],
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *[(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()],
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def static_files() -> dict[str, Path]:
    """name -> file for every file directly in ``static/`` with a known media type."""
    return {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in MEDIA_TYPES}


def create_app(workbench: Workbench, settings: Settings) -> Starlette:
    """The ASGI app for one workbench session (see the module docstring for the safety
    rules). ``workbench.project`` must only be touched from the app's database thread."""
    database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qcode-db")
    files = static_files()
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pieces"] = render_pieces
    env.filters["pct"] = lambda v: f"{100 * v:.0f} %"
    env.filters["score"] = lambda v: "" if v is None else f"{v:.2f}"

    async def db(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(database, lambda: func(*args, **kwargs))

    def view(request: Request) -> dict[str, Any]:
        blind = settings.forced_blind or request.cookies.get("qcode_blind") == "1"
        redacted = request.cookies.get("qcode_redacted") == "1"
        workbench.blind = blind
        return {
            "blind": blind,
            "forced_blind": settings.forced_blind,
            "redacted": redacted,
            "coder": workbench.coder,
            "csrf": settings.csrf,
            "request": request,
            "project": Path(workbench.project.config.database).name,
        }

    def page(name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(**context), status_code=status)

    async def documents(request: Request) -> Response:
        ctx = view(request)
        q = request.query_params
        filters: dict[str, Any] = {
            "group": q.get("group", ""),
            "kind": q.get("kind", ""),
            "code": q.get("code", ""),
            "coder": q.get("coder", ""),
            "unreviewed": q.get("unreviewed", "") == "1",
        }

        def load() -> dict[str, Any]:
            frame = workbench.documents(**filters)
            rows = frame.to_dict("records")
            if ctx["redacted"]:
                for row in rows:
                    row["title"] = workbench.redact(row["title"])
            return {"rows": rows, "choices": workbench.filter_choices(), "codes": workbench.codes()}

        return page("documents.html", {**ctx, **await db(load), "filters": filters})

    async def document(request: Request) -> Response:
        ctx = view(request)
        doc_id = request.path_params["document"]
        data = await db(workbench.document, doc_id, redacted=ctx["redacted"])
        codes = list(data["codes"].values())
        name = "document_body.html" if request.query_params.get("fragment") else "document.html"
        return page(
            name,
            {
                **ctx,
                "doc": data,
                "codes_json": _json_for_page(
                    [
                        {
                            "path": c["path"],
                            "label": c["label"],
                            "level": c["level"],
                            "color": c["color"],
                        }
                        for c in codes
                    ]
                ),
            },
        )

    async def codes(request: Request) -> Response:
        ctx = view(request)

        def load() -> dict[str, Any]:
            return {"codes": workbench.codes(), "counts": workbench.code_counts()}

        return page("codes.html", {**ctx, **await db(load)})

    async def code(request: Request) -> Response:
        ctx = view(request)
        path = request.path_params["code"]
        q = request.query_params
        filters = {
            "group": q.get("group", ""),
            "source": q.get("source", ""),
            "coder": q.get("coder", ""),
        }

        def load() -> dict[str, Any]:
            known = {c["path"]: c for c in workbench.codes()}
            if path not in known:
                raise StoreError(f"no code {path!r} in the project")
            return {
                "code": known[path],
                "passages": workbench.passages(path, redacted=ctx["redacted"], **filters),
                "memos": workbench.code_memos(path),
                "choices": workbench.filter_choices(),
            }

        return page("code.html", {**ctx, **await db(load), "filters": filters})

    async def explain(request: Request) -> Response:
        ctx = view(request)
        q = request.query_params
        try:
            segment = int(q.get("segment", ""))
        except ValueError:
            return JSONResponse({"error": "segment must be a number"}, status_code=400)
        text = await db(workbench.explain, q.get("document", ""), segment, redacted=ctx["redacted"])
        return JSONResponse({"text": text})

    async def api(request: Request) -> Response:
        view(request)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return JSONResponse({"error": "send JSON"}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        action = request.path_params["action"]
        handlers: dict[str, Callable[[], str]] = {
            "decide": lambda: workbench.decide(
                _str(body, "document"),
                _num(body, "segment"),
                _str(body, "code"),
                _str(body, "decision") == "accept",
                text=_opt_str(body, "text"),
            ),
            "change": lambda: workbench.change(
                _str(body, "document"),
                _num(body, "segment"),
                _str(body, "code"),
                _str(body, "to"),
                start=_opt_num(body, "start"),
                end=_opt_num(body, "end"),
                text=_opt_str(body, "text"),
            ),
            "code": lambda: workbench.add(
                _str(body, "document"), _num(body, "start"), _num(body, "end"), _str(body, "code")
            ),
            "remove": lambda: workbench.remove(
                _str(body, "document"), _num(body, "start"), _num(body, "end"), _str(body, "code")
            ),
            "memo": lambda: workbench.memo(
                _str(body, "kind"),
                _str(body, "text"),
                document_id=body.get("document") or None,
                code=body.get("code") or None,
                start=_opt_num(body, "start"),
                end=_opt_num(body, "end"),
            ),
            "undo": workbench.undo,
        }
        if action not in handlers:
            return JSONResponse({"error": f"no action {action!r}"}, status_code=404)
        message = await db(handlers[action])
        return JSONResponse({"ok": True, "message": message})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        path = files.get(name)
        if path is None:
            return Response("not found\n", status_code=404, media_type="text/plain")
        return Response(path.read_bytes(), media_type=MEDIA_TYPES[path.suffix])

    async def error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, ProjectBusy):
            status = 503  # another qcode process held the database past the busy timeout
        elif (
            isinstance(exc, StoreError)
            and "no document" in str(exc)
            or isinstance(exc, StoreError)
            and "no code" in str(exc)
        ):
            status = 404
        else:
            status = 400
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=status)
        return page("error.html", {**view(request), "message": str(exc)}, status)

    app = Starlette(
        routes=[
            Route("/", documents),
            Route("/doc/{document:path}", document),
            Route("/codes", codes),
            Route("/codes/{code:path}", code),
            Route("/api/explain", explain),
            Route("/api/{action}", api, methods=["POST"]),
            Route("/static/{name}", static),
        ],
        exception_handlers={QcodeError: error, _BadRequest: error},
    )
    outer = SafetyMiddleware(app, settings)
    outer.workbench = workbench
    outer.database = database  # the one thread that touches the database
    return outer  # type: ignore[return-value]


class _BadRequest(QcodeError):
    """A request body without a field it needs."""


def _str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise _BadRequest(f"missing {key!r}")
    return value


def _num(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadRequest(f"{key!r} must be a whole number")
    return value


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    return None if body.get(key) is None else _str(body, key)


def _opt_num(body: dict[str, Any], key: str) -> int | None:
    return None if body.get(key) is None else _num(body, key)


def _json_for_page(value: Any) -> Markup:
    """JSON safe to put inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def render_pieces(
    segment: dict[str, Any], colors: dict[int, str], styles: dict[int, str]
) -> Markup:
    """A segment's text as spans that carry their code-point offset (``data-s``) and coding
    ids (``data-c``); overlapping codings stack as coloured bars under the text, a human
    coding also tints the background. Built here rather than in a template loop: a long
    transcript has thousands of pieces."""
    out = []
    for piece, text in segment["pieces"]:
        attrs = f' data-s="{piece.start}"'
        classes = ["t"]
        style = ""
        if piece.codings:
            classes.append("hl")
            attrs += f' data-c="{" ".join(str(i) for i in piece.codings)}"'
            shadows = [
                f"inset 0 -{3 * (n + 1)}px 0 {colors.get(i, '#888')}"
                for n, i in enumerate(piece.codings[:6])
            ]
            human = next((i for i in piece.codings if styles.get(i) != "suggestion"), None)
            style = f' style="box-shadow:{",".join(shadows)};padding-bottom:{3 * min(len(piece.codings), 6) - 2}px'
            if human is not None:
                style += f";background:{colors.get(human, '#888')}33"
            style += '"'
        if piece.evidence:
            classes.append("ev")
        out.append(f'<span class="{" ".join(classes)}"{attrs}{style}>{escape(text)}</span>')
    return Markup("".join(out))
