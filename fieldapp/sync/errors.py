"""What can go wrong on the wire, by meaning: callers catch what they can act on.

Each kind is a class, so a caller (the screens, the CLI) tells them apart by type,
never by the English of the message:

    SyncError
    ├── NotEnrolled         no server address and token on this device yet
    ├── Unreachable         no answer: refused, reset, timed out, cut short; try later
    ├── CertificateRefused  the server's TLS certificate is not trusted; trying again will not help
    ├── ServerError         the server failed (5xx); try later
    │   └── OddAnswer       an answer that makes no sense (not JSON, too large, verdicts not matching)
    ├── AuthError           401/403: re-enroll
    │   ├── TokenRefused    401: no token, or an unknown or revoked one
    │   └── RoleRefused     403: a token, but not one with the role the route needs
    ├── RequestRefused      400/413/415/422: the server refused the request itself, with its reason
    └── EnrollmentError     linking this device, or its kept link, failed
        ├── BadAddress      the address is not an http(s) server address
        ├── PlainHttp       plain http to another machine would expose the token
        ├── EmptyToken      no token given
        ├── DataLocked      the data is sealed with a PIN and not unlocked
        └── DamagedLink     the kept enrollment file cannot be read or makes no sense
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


class OddAnswer(ServerError):
    pass


class AuthError(SyncError):
    pass


class TokenRefused(AuthError):
    pass


class RoleRefused(AuthError):
    pass


class RequestRefused(SyncError):
    pass


class EnrollmentError(SyncError):
    pass


class BadAddress(EnrollmentError):
    pass


class PlainHttp(EnrollmentError):
    pass


class EmptyToken(EnrollmentError):
    pass


class DataLocked(EnrollmentError):
    pass


class DamagedLink(EnrollmentError):
    pass
