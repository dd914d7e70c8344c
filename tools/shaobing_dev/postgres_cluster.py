"""The database and its roles as CloudNativePG makes them, played by the local stack.

The Cluster of deploy/k8s/base/postgres.yaml is read, not repeated. As CloudNativePG's initdb
does, the superuser creates the owner (`CREATE ROLE … LOGIN`: no SUPERUSER, no CREATEROLE, no
BYPASSRLS) and the database it owns; as its managed roles do, each declared role with its
attributes, and its memberships (`inRoles`) granted by the superuser, so that nobody holds the
ADMIN option on a role. The migrations then run as the owner and the services connect as
`shaobing_app`, with exactly the privileges they have in Kubernetes: a migration that needs more
fails here first.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import yaml

CLUSTER_MANIFEST = Path(__file__).resolve().parents[2] / "deploy/k8s/base/postgres.yaml"
SERVICES_ROLE = "shaobing_app"  # the role shaobing-secrets' database-url names in Kubernetes

# CloudNativePG's role attributes (RoleConfiguration) with their defaults, which are
# PostgreSQL's: each is sent as ATTRIBUTE or NOATTRIBUTE.
ATTRIBUTES = {
    "login": False,
    "superuser": False,
    "createdb": False,
    "createrole": False,
    "inherit": True,
    "replication": False,
    "bypassrls": False,
}
# What else a managed role may say that creates nothing in PostgreSQL beyond the password.
_OTHER_FIELDS = {"name", "ensure", "inRoles", "passwordSecret", "comment"}


@dataclass(frozen=True)
class Role:
    name: str
    attributes: dict[str, bool]
    in_roles: tuple[str, ...] = ()

    def sql(self) -> str:
        """The attributes as CREATE ROLE and ALTER ROLE take them."""
        return " ".join(("" if on else "NO") + name.upper() for name, on in self.attributes.items())


@dataclass(frozen=True)
class Cluster:
    database: str
    owner: Role
    managed: tuple[Role, ...]

    @property
    def roles(self) -> tuple[Role, ...]:
        return (self.owner, *self.managed)


def declared(manifest: Path = CLUSTER_MANIFEST) -> Cluster:
    """The database, its owner and the managed roles the Cluster declares."""
    spec = yaml.safe_load(manifest.read_text())["spec"]
    initdb = spec["bootstrap"]["initdb"]
    owner = Role(initdb["owner"], ATTRIBUTES | {"login": True})
    managed = spec.get("managed", {}).get("roles", [])
    present = [r for r in managed if r.get("ensure", "present") == "present"]
    return Cluster(initdb["database"], owner, tuple(_managed_role(r) for r in present))


def _managed_role(entry: dict) -> Role:
    unknown = entry.keys() - ATTRIBUTES.keys() - _OTHER_FIELDS
    if unknown:
        raise ValueError(f"managed role {entry['name']}: the local stack cannot play {unknown}")
    attributes = {name: entry.get(name, default) for name, default in ATTRIBUTES.items()}
    return Role(entry["name"], attributes, tuple(entry.get("inRoles", ())))


def database_url(url: str, database: str, user: str | None = None, password: str = "") -> str:
    """`url` at another database, as another user if one is given (host and options kept)."""
    parts = urlsplit(url)
    credentials, _, host = parts.netloc.rpartition("@")
    if user is not None:
        credentials = f"{quote(user)}:{quote(password)}"
    netloc = f"{credentials}@{host}" if credentials else host
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{quote(database)}"))


async def provision(superuser_url: str, cluster: Cluster | None = None) -> dict[str, str]:
    """Create the cluster's roles and database, or bring the roles back to the declaration;
    the URL of each login role at the database, with a new password."""
    cluster = cluster or declared()
    conn = await asyncpg.connect(superuser_url)
    try:
        passwords = {role.name: await _ensure_role(conn, role) for role in cluster.roles}
        for role in cluster.managed:
            await _ensure_memberships(conn, role)
        await _ensure_database(conn, cluster)
    finally:
        await conn.close()
    return {
        name: database_url(superuser_url, cluster.database, name, password)
        for name, password in passwords.items()
        if password
    }


async def _execute(conn: asyncpg.Connection, template: str, *args: str | None) -> None:
    """A statement built by PostgreSQL's format() (%I names, %L literals, %s keywords)."""
    casts = ", ".join(f"${i}::text" for i in range(1, len(args) + 1))
    await conn.execute(await conn.fetchval(f"select format('{template}', {casts})", *args))


async def _ensure_role(conn: asyncpg.Connection, role: Role) -> str:
    """The role created or altered to its attributes; its new password ('' without LOGIN)."""
    exists = await conn.fetchval("select true from pg_roles where rolname = $1", role.name)
    password = secrets.token_urlsafe(24) if role.attributes["login"] else ""
    verb = "alter" if exists else "create"
    await _execute(conn, "%s role %I %s password %L", verb, role.name, role.sql(), password or None)
    return password


async def _ensure_memberships(conn: asyncpg.Connection, role: Role) -> None:
    for group in role.in_roles:
        if not await conn.fetchval("select pg_has_role($1, $2, 'member')", role.name, group):
            await _execute(conn, "grant %I to %I", group, role.name)


async def _ensure_database(conn: asyncpg.Connection, cluster: Cluster) -> None:
    owner = await conn.fetchval(
        "select pg_get_userbyid(datdba) from pg_database where datname = $1", cluster.database
    )
    if owner is None:
        await _execute(conn, "create database %I owner %I", cluster.database, cluster.owner.name)
    elif owner != cluster.owner.name:
        raise RuntimeError(
            f"database {cluster.database} is owned by {owner}, not {cluster.owner.name}: it was"
            " made before the local stack created roles as CloudNativePG does; remove it (make"
            " clean removes .var) or give it and its objects to the owner"
        )
