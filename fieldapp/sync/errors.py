"""What can go wrong on the wire, by meaning: callers catch what they can act on.

    SyncError
    ├── NotEnrolled      no server address and token on this device yet
    ├── Unreachable      no answer: refused, reset, timed out, cut short; try later
    ├── CertificateRefused  the server's TLS certificate is not trusted; trying again will not help
    ├── ServerError      the server answered 5xx, or an answer that makes no sense; try later
    ├── AuthError        401/403: the token is unknown, revoked, or lacks the role; re-enroll
    └── RequestRefused   400/413/415/422: the server refused the request itself, with its reason
"""


class SyncError(Exception):
    """Base of every sync failure. `str()` is a reason fit to show a volunteer."""


class NotEnrolled(SyncError):
    pass


class Unreachable(SyncError):
    pass


class CertificateRefused(SyncError):
    pass


class ServerError(SyncError):
    pass


class AuthError(SyncError):
    pass


class RequestRefused(SyncError):
    pass
