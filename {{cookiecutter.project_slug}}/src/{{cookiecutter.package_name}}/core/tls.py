"""How the service's outgoing HTTPS clients (the provider SDKs', the OIDC client's: all
on httpx2) verify the servers they call."""

import ssl
from functools import cache

from httpx2 import create_ssl_context


@cache
def outgoing_tls() -> ssl.SSLContext:
    """As httpx2 verifies by default (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` apply), built
    once per process: loading the CA bundle takes tens of milliseconds, which every
    client, and every start of the app, would spend again.
    """
    return create_ssl_context()
