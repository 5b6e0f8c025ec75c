"""Serving the page: the Solara server (Starlette and uvicorn) for :mod:`simulation.app.page`.

Solara's usage statistics and its version check are switched off (they would call out to the
internet); the page's scripts and fonts come from the ``solara-assets`` package, so the page works
without a network.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import warnings

APP = "simulation.app.page"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(ValueError):
    """A host or port the server cannot use (the message says which and why)."""


def is_loopback(host: str) -> bool:
    """True if ``host`` names this machine only (127.0.0.0/8, ::1 or "localhost")."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Raise ServeError unless ``port`` (1-65535) is free to listen on at ``host``."""
    if not 1 <= port <= 65535:
        raise ServeError(f"--port {port}: a port is a number from 1 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise ServeError(f"--host {host}: not an address of this machine ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as err:
            raise ServeError(
                f"--port {port}: cannot listen on {host}:{port} ({err.strerror}); choose another with --port"
            ) from None


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = True) -> None:
    """Serve the page at http://host:port until interrupted (Ctrl-C). Raises ServeError for a
    host or port that cannot be used."""
    check_port(host, port)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # read when solara loads
    # Solara warns that cookies with samesite=none need https: on a local http page they fall back
    # to samesite=lax, which is what a page on this machine wants.
    warnings.filterwarnings("ignore", message="Cookies with samesite", module="solara.server.starlette")
    from solara.__main__ import run

    args = [APP, "--host", host, "--port", str(port), "--production", "--no-check-version"]
    run.main([*args, "--open" if open_browser else "--no-open"], standalone_mode=False)
