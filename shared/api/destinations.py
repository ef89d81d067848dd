"""Where a webhook may post: an https address (http only when ``WEBHOOK_ALLOW_HTTP`` is set) whose
host resolves to public addresses only, so that a key holder cannot make the worker reach the
database, the cloud's metadata service or anything else on the inside (SSRF).

The check runs when the webhook is made and again at every delivery, after resolving the name, and
the connection goes to the very address that was checked: a name that resolves to a public address
first and to 127.0.0.1 later (DNS rebinding) gets nowhere. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from shared.config import Config

# Resolves a host name to its addresses (getaddrinfo; tests give another).
Resolver = Callable[[str, int], list[str]]
TIMEOUT = 10  # seconds for the receiver to answer


class RefusedDestination(OSError):
    """A webhook address the rules do not allow; the message says why."""


@dataclass(frozen=True)
class Rules:
    """``allow_http``: plain http too; ``allow_private``: loopback and private networks too (tests,
    development, a receiver on the same internal network)."""

    allow_http: bool = False
    allow_private: bool = False

    @classmethod
    def for_config(cls, config: Config) -> Rules:
        return cls(allow_http=config.webhook_allow_http, allow_private=config.webhook_allow_private)


def resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedDestination(_("Värdnamnet %(host)s gick inte att slå upp.", host=host)) from exc
    return [str(info[4][0]) for info in found]


# What an address that is not public is, in the refusal's words.
KINDS = {
    "loopback": _l("loopback"),
    "link-local": _l("länklokal"),
    "multicast": _l("multicast"),
    "unspecified": _l("ospecificerad"),
    "reserved": _l("reserverad"),
    "private": _l("privat nät"),
}


def _not_public(address: str) -> str | None:
    """What kind of address this is (a key of KINDS) when it is not a public one, else None."""
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone (fe80::1%eth0) is link-local anyway
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, matches in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private or not ip.is_global),
    ):
        if matches:
            return kind
    return None


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str  # the checked address the connection goes to


def check(url: str, rules: Rules, resolver: Resolver = resolve) -> Destination:
    """The destination of ``url`` if the rules allow it; raises RefusedDestination saying why."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise RefusedDestination(_("Adressen är inte en giltig URL.")) from exc
    allowed = ("https", "http") if rules.allow_http else ("https",)
    if parts.scheme not in allowed:
        raise RefusedDestination(
            _("Adressen ska börja med https:// eller http://.")
            if rules.allow_http
            else _("Adressen ska börja med https://.")
        )
    host = parts.hostname or ""
    if not host:
        raise RefusedDestination(_("Adressen saknar värdnamn."))
    if parts.username is not None or parts.password is not None:
        raise RefusedDestination(_("Adressen får inte innehålla användarnamn eller lösenord."))
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolver(host, port)
    if not addresses:
        raise RefusedDestination(_("Värdnamnet %(host)s gick inte att slå upp.", host=host))
    if not rules.allow_private:
        for address in addresses:
            kind = _not_public(address)
            if kind:
                raise RefusedDestination(
                    _(
                        "%(host)s pekar på en intern adress (%(kind)s: %(address)s). "
                        "Webhooks skickas bara till publika adresser.",
                        host=host,
                        kind=KINDS[kind],
                        address=address,
                    )
                )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port, target, addresses[0])


def post(url: str, body: bytes, headers: Mapping[str, str], *, rules: Rules, resolver: Resolver = resolve) -> int:
    """POST to a checked destination, connecting to the address that was checked; returns the status
    (a redirect is an answer like any other, not followed). Raises OSError when nobody answers."""
    where = check(url, rules, resolver)
    connection: http.client.HTTPConnection
    if where.scheme == "https":
        # The certificate is checked against the host name, while the socket goes to the checked address.
        connection = http.client.HTTPSConnection(
            where.host, where.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(where.host, where.port, timeout=TIMEOUT)

    def pinned(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        return socket.create_connection((where.address, address[1]), *args, **kwargs)

    connection._create_connection = pinned  # type: ignore[attr-defined]  # http.client's own hook for it
    try:
        connection.request("POST", where.target, body=body, headers=dict(headers))
        return connection.getresponse().status
    finally:
        connection.close()


def poster(rules: Rules, resolver: Resolver = resolve) -> Callable[[str, bytes, Mapping[str, str]], int]:
    """``post`` under these rules, as the worker's delivery calls it."""
    return partial(post, rules=rules, resolver=resolver)
