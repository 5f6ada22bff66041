"""Free TCP ports on this machine: the one helper the stack, Triton, the training launcher and the tests use."""

from __future__ import annotations

import socket


def free_ports(count: int, host: str = "127.0.0.1", preferred: int | None = None) -> list[int]:
    """Ask the kernel for ``count`` distinct free ports (released again before returning).

    Args:
        count: how many ports.
        host: the address to bind.
        preferred: a port to return first when it is free (e.g. the configured rendezvous port).
    """
    sockets: list[socket.socket] = []
    try:
        if preferred:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind((host, preferred))
            except OSError:
                sock.close()
            else:
                sockets.append(sock)
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, 0))
            sockets.append(sock)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for sock in sockets:
            sock.close()
