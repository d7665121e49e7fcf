# Copyright (c) PlusPTT operations team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a TURN server over TLS for this client's address: a STUN Binding request (RFC 8489) on a TLS
connection verified against a CA, as a WebRTC client does before it allocates a relay."""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import struct

MAGIC_COOKIE = 0x2112A442
BINDING_REQUEST, BINDING_SUCCESS = 0x0001, 0x0101
XOR_MAPPED_ADDRESS = 0x0020


def _receive(tls, size):
    data = b""
    while len(data) < size:
        chunk = tls.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the TURN server closed the connection after %d bytes" % len(data))
        data += chunk
    return data


def binding_over_tls(address, port, cafile, server_hostname, timeout=10):
    """Returns (the certificate the server presented, DER; the address it saw this client come from)."""
    context = ssl.create_default_context(cafile=cafile)
    transaction = os.urandom(12)
    with socket.create_connection((address, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=server_hostname) as tls:
        tls.sendall(struct.pack("!HHI", BINDING_REQUEST, 0, MAGIC_COOKIE) + transaction)
        kind, length, cookie = struct.unpack("!HHI", _receive(tls, 8))
        answered = _receive(tls, 12)
        body = _receive(tls, length)
        certificate = tls.getpeercert(binary_form=True)
    assert (kind, cookie, answered) == (BINDING_SUCCESS, MAGIC_COOKIE, transaction), (hex(kind), answered)
    while body:
        attribute, size = struct.unpack("!HH", body[:4])
        value = body[4:4 + size]
        if attribute == XOR_MAPPED_ADDRESS and value[1] == 0x01:
            packed = struct.unpack("!I", value[4:8])[0] ^ MAGIC_COOKIE
            return certificate, str(ipaddress.IPv4Address(packed))
        body = body[4 + size + (-size % 4):]
    raise AssertionError("the Binding response holds no IPv4 XOR-MAPPED-ADDRESS")
