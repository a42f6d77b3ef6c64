"""Taking the HTTP port before anything else starts, so a port in use is one clear error, not uvicorn's exit.

The server binds its own listening sockets (every address the host name has, as asyncio would) and hands them to
uvicorn (``Server.serve(sockets=...)``): between the check and the serving nothing can take the port. Only
``socket`` calls documented for Linux, macOS and Windows; ``errno.EADDRINUSE`` is Windows' WSAEADDRINUSE there.
"""

from __future__ import annotations

import errno
import socket
from contextlib import suppress

from ..local_errors import ListenError, PortInUseError

SKIPPED_ADDRESS_ERRORS = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT})


def listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address of ``host`` at ``port``; PortInUseError or ListenError when refused."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on {host}: {exc.strerror}", host=host, port=port, reason=str(exc.strerror)
        ) from None
    addresses = list(dict.fromkeys((family, address) for family, _type, _proto, _name, address in found))
    sockets: list[socket.socket] = []
    unavailable: OSError | None = None
    try:
        for family, address in addresses:
            if sockets and not port:  # port 0: every address listens on the port the system chose for the first
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            try:
                # create_server: SO_REUSEADDR on POSIX only (on Windows it would let another process share the
                # port), IPV6_V6ONLY for IPv6 addresses, as asyncio does for each address it binds.
                sockets.append(socket.create_server(address, family=family))
            except OSError as exc:
                # A name with several addresses (localhost: 127.0.0.1 and ::1) on a machine lacking one of the
                # families, or with IPv6 turned off: that address is skipped, as asyncio skips it.
                if exc.errno not in SKIPPED_ADDRESS_ERRORS or len(addresses) == 1:
                    raise
                unavailable = exc
        if not sockets and unavailable is not None:
            raise unavailable
    except OSError as exc:
        for opened in sockets:
            opened.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(host, port) from None
        reason = exc.strerror or type(exc).__name__
        raise ListenError(
            f"cannot listen on port {port} on {host}: {reason}", host=host, port=port, reason=reason
        ) from None
    return sockets


def check_port_free(host: str, port: int) -> None:
    """PortInUseError (or ListenError) unless ``host``:``port`` can be listened on right now (for a server that binds
    the port itself, in a moment: another process may still take it in between)."""
    for probe in listen(host, port):
        with suppress(OSError):
            probe.close()


def bound_port(sockets: list[socket.socket], port: int) -> int:
    """The port the sockets listen on (the one the system chose when ``port`` is 0)."""
    if port or not sockets:
        return port
    chosen: int = sockets[0].getsockname()[1]
    return chosen
