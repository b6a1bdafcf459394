"""``qcode serve``: the coding workbench in the browser, on the researcher's own machine.

A local web server over the project database: read a transcript with its codings
highlighted, accept or reject the automatic ones, code by selecting text, write memos. Every
decision is stored at once as the coder's human coding, so the CLI reports, ``qcode
agreement`` and ``qcode export qdpx`` see it. Everything is served from this package (no
CDN, no web fonts); see :mod:`qcode.serve.app` for how the server keeps other web pages out.

>>> from qcode import Project
>>> from qcode.serve import make_app
>>> app, settings = make_app(Project("demo"), coder="eva")  # doctest: +SKIP
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .app import Settings, create_app
from .workbench import Workbench, coder_name

__all__ = ["Settings", "Workbench", "create_app", "make_app", "serve", "running", "LOOPBACK"]

LOOPBACK = "127.0.0.1"


def make_app(
    project: Any,
    *,
    coder: str | None = None,
    blind: bool = False,
    host: str = LOOPBACK,
    port: int | None = None,
    token: str | None = None,
) -> tuple[Any, Settings]:
    """The ASGI app for ``project`` and the settings it checks requests against."""
    project.open_existing_store()  # a missing database is an error before anything starts
    project.close()  # the app's database thread opens its own connection
    workbench = Workbench(project, coder_name(coder), blind=blind)
    settings = Settings(token=token, hosts=host_names(host), port=port, blind=blind)
    return create_app(workbench, settings), settings


def host_names(host: str) -> list[str]:
    """The names a browser may use for ``host`` in its Host header: loopback answers to
    127.0.0.1 and localhost; a wildcard address to this machine's name and addresses."""
    names = [host]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return names
    if address.is_loopback:
        names += ["localhost", "127.0.0.1", "::1"]
    elif address.is_unspecified:
        name = socket.gethostname()
        names += ["localhost", "127.0.0.1", name]
        try:
            names += [str(info[4][0]) for info in socket.getaddrinfo(name, None)]
        except OSError:
            pass
    return list(dict.fromkeys(names))


def serve(
    project: Any,
    *,
    coder: str | None = None,
    host: str = LOOPBACK,
    port: int = 8765,
    blind: bool = False,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
    ready: Callable[[Any], None] | None = None,
) -> None:
    """Run the workbench until Ctrl-C (or until ``server.should_exit`` is set by ``ready``'s
    caller): bind, print the address with its token, open the browser.

    ``port`` 0 picks a free port. ``ready`` is called with the uvicorn server once it is
    listening (tests use it to stop the server).
    """
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        from ..errors import ConfigError

        raise ConfigError(
            f"cannot listen on {host}:{port} ({err.strerror}); try another --port"
        ) from None
    port = sock.getsockname()[1]
    app, settings = make_app(project, coder=coder, blind=blind, host=host, port=port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/?token={settings.token}"
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)

    def started() -> None:
        # the address is printed once the server listens and Ctrl-C is handled by it
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            echo(f"qcode workbench for {project.config.database}, coder {app_coder(app)}:")
            echo(f"  {url}")
            echo("Ctrl-C stops it.")
            if open_browser:
                webbrowser.open(url)
            if ready is not None:
                ready(server)

    threading.Thread(target=started, daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        pass
    finally:
        sock.close()
        shutdown(app)
    print("qcode serve stopped", file=sys.stderr)


@contextmanager
def running(project: Any, **kwargs: Any) -> Iterator[str]:
    """Serve ``project`` from a thread of this process on a free loopback port, for scripts
    and tests; yields the address with its token and stops the server on exit.

    >>> with running(Project("demo"), coder="eva") as url:  # doctest: +SKIP
    ...     urllib.request.urlopen(url)
    """
    lines: list[str] = []
    started = threading.Event()
    box: dict[str, Any] = {}

    def ready(server: Any) -> None:
        box["server"] = server
        started.set()

    thread = threading.Thread(
        target=serve,
        args=(project,),
        kwargs={"port": 0, "open_browser": False, "echo": lines.append, "ready": ready, **kwargs},
        daemon=True,
    )
    thread.start()
    if not started.wait(30):
        raise RuntimeError("qcode serve did not start within 30 s")
    try:
        yield lines[1].strip()
    finally:
        box["server"].should_exit = True
        thread.join(10)


def app_coder(app: Any) -> str:
    coder: str = app.workbench.coder
    return coder


def shutdown(app: Any) -> None:
    """Let the database thread finish the write it is doing, then close its connection."""
    app.database.submit(app.workbench.project.close).result()
    app.database.shutdown(wait=True)
