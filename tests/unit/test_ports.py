"""The one free-port helper."""

from __future__ import annotations

import socket

from llmops.ports import free_ports


def test_distinct_free_ports() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5 and all(p > 0 for p in ports)


def test_preferred_port_first_when_free_else_another() -> None:
    [wanted] = free_ports(1)
    assert free_ports(2, preferred=wanted)[0] == wanted
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", wanted))
        busy.listen()
        [other] = free_ports(1, preferred=wanted)
    assert other != wanted
