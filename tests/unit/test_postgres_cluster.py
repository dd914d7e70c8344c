"""The roles the local stack makes as CloudNativePG would, read from the Cluster manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shaobing_dev.postgres_cluster import CLUSTER_MANIFEST, declared


def _manifest(tmp_path: Path, **role: object) -> Path:
    cluster = yaml.safe_load(CLUSTER_MANIFEST.read_text())
    cluster["spec"]["managed"]["roles"] = [{"name": "extra", **role}]
    path = tmp_path / "postgres.yaml"
    path.write_text(yaml.safe_dump(cluster))
    return path


def test_the_owner_is_made_as_cloudnativepg_initdb_makes_it_login_and_nothing_more() -> None:
    assert declared().owner.sql() == (
        "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS"
    )


def test_a_managed_role_takes_its_declared_attributes_and_postgresqls_defaults(tmp_path) -> None:
    [role] = declared(_manifest(tmp_path, login=True, bypassrls=True, inRoles=["a"])).managed

    assert role.sql() == "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION BYPASSRLS"
    assert role.in_roles == ("a",)


def test_a_role_declared_absent_is_not_made(tmp_path) -> None:
    assert declared(_manifest(tmp_path, ensure="absent")).managed == ()


def test_an_attribute_the_local_stack_cannot_play_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="connectionLimit"):
        declared(_manifest(tmp_path, connectionLimit=5))
