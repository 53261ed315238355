"""Who is acting: the user, their role and where from, handed by views to services so that the
service can authorise and audit without seeing the request."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from .roles import Role, role_of


@dataclass(frozen=True)
class Actor:
    user: object
    role: Role | None
    ip: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Actor":
        return cls(user=request.user, role=role_of(request.user), ip=client_ip(request))

    @classmethod
    def system(cls) -> "Actor":
        """Celery tasks and management commands: no user, no address."""
        return cls(user=None, role=None, ip=None)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for the audit log and for counting failed logins. Behind the
    clinic's TLS load balancer the peer is the balancer, which appends the address it saw to
    X-Forwarded-For: the last entry. Earlier entries are whatever the client sent, so trusting
    the first would let anyone pick their address (and dodge the login lockout)."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None
