"""The secrets in links that need no login (an online booking's confirmation, a safety
check-in): the token is derived from a row's nonce with the secret key when the message is
written, and only its digest is kept, to find the row from the link."""

import hashlib

from django.utils.crypto import salted_hmac


def from_nonce(salt: str, nonce) -> str:
    return salted_hmac(salt, str(nonce)).hexdigest()


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
