{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""Make the first admin (or make an existing user one).

    uv run python -m {{ cookiecutter.package_name }}.scripts.create_admin admin@example.com

{% if cookiecutter.auth == "jwt" %}
It asks for the admin's password (or reads one line from standard input when that is
not a terminal). The admin then logs in and manages everyone else through the API.
{% elif cookiecutter.auth == "api_key" %}
It prints a new API key with every scope, once: store it. The admin then creates the
other users and their keys through the API.
{% else %}
It asks for the admin's password (or reads one line from standard input when that is
not a terminal). The admin then logs in, and manages everyone else and the API keys
through the API.
{% endif %}
"""

import argparse
import asyncio
{% if jwt %}
import getpass
{% endif %}
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import structlog

{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.core.api_keys import generate_api_key
from {{ cookiecutter.package_name }}.core.authorization import Scope
{% endif %}
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.domain import UserRole
from {{ cookiecutter.package_name }}.core.logging import configure_logging
{% if jwt %}
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
{% endif %}
from {{ cookiecutter.package_name }}.database.engine import create_engine, create_session_factory
{% if cookiecutter.auth == "api_key" %}
from {{ cookiecutter.package_name }}.database.models import ApiKey, User
from {{ cookiecutter.package_name }}.database.repository import ApiKeyRepository, UserRepository
{% else %}
from {{ cookiecutter.package_name }}.database.models import User
from {{ cookiecutter.package_name }}.database.repository import UserRepository
{% endif %}
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail, snapshot

ACTOR = "script:create_admin"
security_log = structlog.get_logger("security")


@dataclass(frozen=True, slots=True)
class CreatedAdmin:
    user_id: UUID
    created: bool
    """False when an existing user was made an admin."""
{% if cookiecutter.auth == "api_key" %}
    api_key: str
{% endif %}


{% if jwt %}
async def create_admin(settings: Settings, *, email: str, name: str, password: str) -> CreatedAdmin:
{% else %}
async def create_admin(settings: Settings, *, email: str, name: str) -> CreatedAdmin:
{% endif %}
    """Create the admin, or promote and reactivate the user with that email."""
{% if jwt %}
    hasher = await asyncio.to_thread(PasswordHasher.from_settings, settings)
    password_hash = await hasher.hash(password)
{% endif %}
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            audit = AuditTrail(session, actor=ACTOR)
            users = UserRepository(session)
            user = await users.get_by_email(email)
            created = user is None
            if user is None:
{% if jwt %}
                user = User(email=email, name=name, role=UserRole.ADMIN)
                user.password_hash = password_hash
                await users.create(user)
{% else %}
                user = await users.create(User(email=email, name=name, role=UserRole.ADMIN))
{% endif %}
                await audit.created(user)
            else:
                before = snapshot(user)
{% if jwt %}
                changes = {
                    "role": UserRole.ADMIN,
                    "is_active": True,
                    "password_hash": password_hash,
                }
{% else %}
                changes = {"role": UserRole.ADMIN, "is_active": True}
{% endif %}
                await users.update(user, changes)
                await audit.updated(user, before)
{% if cookiecutter.auth == "api_key" %}
            new = generate_api_key()
            api_key = await ApiKeyRepository(session).create(
                ApiKey(
                    owner=user,
                    name="created by create_admin",
                    prefix=new.prefix,
                    key_hash=new.key_hash,
                    scopes=sorted(scope.value for scope in Scope),
                )
            )
            await audit.created(api_key)
{% endif %}
    finally:
        await engine.dispose()
    event = "admin_created" if created else "admin_promoted"
    security_log.info(event, user_id=str(user.id), by=ACTOR)
{% if cookiecutter.auth == "api_key" %}
    return CreatedAdmin(user_id=user.id, created=created, api_key=new.key)
{% else %}
    return CreatedAdmin(user_id=user.id, created=created)
{% endif %}
{% if jwt %}


def read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        sys.exit("The passwords differ.")
    return password
{% endif %}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make the first admin, or make a user one.")
    parser.add_argument("email")
    parser.add_argument("--name", default="Admin", help="display name of a new admin")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings)
{% if jwt %}
    password = read_password()
    if not 12 <= len(password) <= 128:
        print("The password must have 12 to 128 characters.", file=sys.stderr)
        return 2
    admin = asyncio.run(create_admin(settings, email=args.email, name=args.name, password=password))
{% else %}
    admin = asyncio.run(create_admin(settings, email=args.email, name=args.name))
{% endif %}
    print(f"{args.email} is an admin{' (new user)' if admin.created else ''}.")
{% if cookiecutter.auth == "api_key" %}
    print(f"API key, shown this once (send it as X-API-Key): {admin.api_key}")
{% endif %}
    return 0


if __name__ == "__main__":
    sys.exit(main())
