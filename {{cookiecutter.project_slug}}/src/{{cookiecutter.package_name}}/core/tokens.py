"""JSON Web Tokens, signed and verified with the one configured algorithm.

HS256 (the default) signs with a key derived from ``SECRET_KEY``. RS256 and ES256 sign
with a private key file and verify with its public half, so that other services can
verify tokens without being able to issue them. Verification accepts only the
configured algorithm, whatever the token's header says (so neither ``none`` nor an
HS256 token "signed" with the public key passes), and requires the issuer, the
audience, and the times, with a small leeway for clock skew.
"""

import enum
import hashlib
import hmac
from datetime import timedelta
from uuid import UUID, uuid4

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.config import Settings

SigningKey = bytes | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
VerificationKey = bytes | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
REQUIRED_CLAIMS = ["iss", "aud", "sub", "jti", "iat", "nbf", "exp"]


class TokenType(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class TokenPayload(BaseModel):
    """The claims of every token this service issues."""

    model_config = ConfigDict(frozen=True)

    iss: str
    aud: str
    sub: UUID = Field(description="The user's ID.")
    sid: UUID = Field(description="The login session, shared by its access and refresh tokens.")
    jti: UUID
    type: TokenType
    scopes: list[str]
    iat: int
    nbf: int
    exp: int
    request_id: str | None = Field(default=None, description="The request that issued it.")


class InvalidTokenError(Exception):
    """Not a token of this service, or no longer valid, or not of the expected type."""


def _load_keys(settings: Settings) -> tuple[SigningKey, VerificationKey]:
    if settings.jwt_algorithm == "HS256":
        # A key of its own: SECRET_KEY may sign other things, which must not pass as tokens.
        secret = settings.secret_key.get_secret_value().encode()
        key = hmac.new(secret, b"jwt-hs256", hashlib.sha256).digest()
        return key, key
    if settings.jwt_private_key_file is None:
        msg = f"JWT_ALGORITHM={settings.jwt_algorithm} needs JWT_PRIVATE_KEY_FILE"
        raise ValueError(msg)
    private = serialization.load_pem_private_key(
        settings.jwt_private_key_file.read_bytes(), password=None
    )
    if settings.jwt_algorithm == "RS256":
        if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
            msg = "JWT_PRIVATE_KEY_FILE must hold an RSA key of 2048 bits or more for RS256"
            raise ValueError(msg)
    elif not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(
        private.curve, ec.SECP256R1
    ):
        msg = "JWT_PRIVATE_KEY_FILE must hold a P-256 elliptic curve key for ES256"
        raise ValueError(msg)
    public = private.public_key()
    if settings.jwt_public_key_file is not None:
        given = serialization.load_pem_public_key(settings.jwt_public_key_file.read_bytes())
        if _der(given) != _der(public):
            msg = "JWT_PUBLIC_KEY_FILE is not the public half of JWT_PRIVATE_KEY_FILE"
            raise ValueError(msg)
    return private, public


def _der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class TokenCodec:
    def __init__(self, settings: Settings) -> None:
        """Reads the key files (blocking): call it in a thread."""
        self._signing_key, self._verification_key = _load_keys(settings)
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds

    def issue(
        self,
        kind: TokenType,
        *,
        user_id: UUID,
        session_id: UUID,
        scopes: list[str],
        lifetime: timedelta,
        jti: UUID | None = None,
        request_id: str | None = None,
    ) -> str:
        now = utc_now()
        payload = TokenPayload(
            iss=self.issuer,
            aud=self.audience,
            sub=user_id,
            sid=session_id,
            jti=jti or uuid4(),
            type=kind,
            scopes=scopes,
            iat=int(now.timestamp()),
            nbf=int(now.timestamp()),
            exp=int((now + lifetime).timestamp()),
            request_id=request_id,
        )
        return self.encode(payload)

    def encode(self, payload: TokenPayload) -> str:
        return jwt.encode(
            payload.model_dump(mode="json"), self._signing_key, algorithm=self.algorithm
        )

    def decode(self, token: str, expected: TokenType) -> TokenPayload:
        """The token's claims once its signature, times, issuer and audience check out."""
        try:
            claims = jwt.decode(
                token,
                self._verification_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
            payload = TokenPayload.model_validate(claims)
        except (jwt.PyJWTError, ValidationError) as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
        if payload.type is not expected:
            msg = f"expected an {expected} token, got a {payload.type} token"
            raise InvalidTokenError(msg)
        return payload
