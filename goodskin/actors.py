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
    # Behind the clinic's TLS load balancer the peer is the balancer; it names the client first.
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None
