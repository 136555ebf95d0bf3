{% set oidc = cookiecutter.auth in ["jwt", "jwt_and_api_key"] and cookiecutter.oidc_signin == "yes" %}
"""How the service's outgoing HTTPS clients verify the servers they call."""

import ssl
from functools import cache

{% if oidc or cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
from httpx2 import create_ssl_context
{% else %}
from httpx import create_ssl_context
{% endif %}


@cache
def outgoing_tls() -> ssl.SSLContext:
    """As the HTTP clients verify by default (certifi's CA bundle, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR``), built once per process: loading the bundle takes tens of
    milliseconds, which every client, and every start of the app, would spend again.
    """
    return create_ssl_context()
