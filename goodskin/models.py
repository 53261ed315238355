"""The project's own table: password reset requests, counted per address (password_reset)."""

from django.db import models
from django.utils import timezone


class ResetRequest(models.Model):
    """Someone asked for a password reset link from `ip`: what the per-address limit counts.
    It keeps no email address: whether one belongs to an account is not written down here."""

    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["ip", "at"], name="reset_request_ip_at_idx")]

    def __str__(self) -> str:
        return f"password reset request from {self.ip} at {self.at:%Y-%m-%d %H:%M}"
