"""Accounts in the config: hashes only, known roles, argon2 verification."""

from __future__ import annotations

import pytest

from dashboard.auth import Role, login, parse_accounts
from tests.dashboard.conftest import HASH, PASSWORD


def test_accounts_need_a_hash_and_known_roles() -> None:
    with pytest.raises(ValueError, match="never a password"):
        parse_accounts({"anna": {"password": "secret"}})
    with pytest.raises(ValueError, match="argon2 or bcrypt"):
        parse_accounts({"anna": {"password_hash": "plain"}})
    with pytest.raises(ValueError, match="roles must be among"):
        parse_accounts({"anna": {"password_hash": HASH, "roles": ["admin"]}})


def test_login_checks_the_argon2_hash_and_keeps_roles() -> None:
    accounts = parse_accounts({"anna": {"password_hash": HASH, "roles": ["reviewer"]}})
    assert login(accounts, "anna", "wrong") is None
    assert login(accounts, "nobody", PASSWORD) is None
    user = login(accounts, "anna", PASSWORD)
    assert user is not None and user.can(Role.REVIEWER) and user.can(Role.VIEWER) and not user.can(Role.PLANNER)
