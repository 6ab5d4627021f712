"""Who may use the dashboard: users with password hashes (argon2 or bcrypt) and roles in outreach.toml.

    [dashboard.users.anna]
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."   # python -m dashboard.auth
    roles = ["planner", "reviewer"]                         # viewer | planner | reviewer

Without users the dashboard serves this computer only (127.0.0.1) and everyone there has every role.
`check_access` is the one function deciding; tests replace `ACCESS_CHECK` (st.login cannot be simulated).
"""

from __future__ import annotations

import getpass
import hmac
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.i18n import t

SESSION_KEY = "outreach_user"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Role(StrEnum):
    VIEWER = "viewer"  # reads every page
    PLANNER = "planner"  # writes posts in the planner; retries, cancels, confirms manual posts
    REVIEWER = "reviewer"  # approves and rejects language variants


@dataclass(frozen=True, slots=True)
class User:
    name: str
    roles: frozenset[Role]
    local: bool = False  # no users configured: the person at this computer

    def can(self, role: Role) -> bool:
        return role is Role.VIEWER or role in self.roles

    def roles_text(self) -> str:
        return ", ".join(sorted(r.value for r in self.roles | {Role.VIEWER}))


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    password_hash: str
    roles: frozenset[Role]


def load_accounts(config_path: str | os.PathLike[str] | None) -> dict[str, Account]:
    """`[dashboard.users.<name>]` tables of the config file (none when there is no file)."""
    if not config_path or not Path(config_path).is_file():
        return {}
    data = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    return parse_accounts(data.get("dashboard", {}).get("users", {}), source=str(config_path))


def parse_accounts(users: Mapping[str, Any], *, source: str = "<config>") -> dict[str, Account]:
    accounts = {}
    for name, raw in users.items():
        where = f"{source}: [dashboard.users.{name}]"
        if "password" in raw:
            raise ValueError(f"{where}: write password_hash (python -m dashboard.auth), never a password")
        digest = str(raw.get("password_hash", ""))
        if not digest.startswith(("$argon2", "$2")):
            raise ValueError(f"{where}: password_hash must be an argon2 or bcrypt hash")
        try:
            roles = frozenset(Role(r) for r in raw.get("roles", ["viewer"]))
        except ValueError:
            raise ValueError(f"{where}: roles must be among {', '.join(r.value for r in Role)}") from None
        accounts[name] = Account(name, digest, roles)
    return accounts


def verify_password(digest: str, password: str) -> bool:
    """Check a password against an argon2 (argon2-cffi) or bcrypt (bcrypt package) hash."""
    if digest.startswith("$argon2"):
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return PasswordHasher().verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False
    if digest.startswith("$2"):
        import bcrypt  # optional: only for bcrypt hashes

        return bcrypt.checkpw(password.encode("utf-8"), digest.encode("ascii"))
    return False


def login(accounts: Mapping[str, Account], name: str, password: str) -> User | None:
    account = accounts.get(name.strip())
    if account is None:
        hmac.compare_digest(password, password)  # same work path for unknown names, roughly
        return None
    if not verify_password(account.password_hash, password):
        return None
    return User(account.name, account.roles)


def is_local_connection() -> bool:
    """The browser is on this computer and the server listens on loopback (or is not a server)."""
    address = st.get_option("server.address")
    ip = st.context.ip_address
    return (not address or address in LOOPBACK) and (ip is None or ip in LOOPBACK)


def check_access(accounts: Mapping[str, Account]) -> User | None:
    """The signed-in user; draws the login form (or the localhost notice) and returns None otherwise."""
    if not accounts:
        if not is_local_connection():
            st.error(t("auth.not_local"))
            return None
        st.sidebar.caption(t("auth.local"))
        return User("local", frozenset(Role), local=True)
    user = st.session_state.get(SESSION_KEY)
    if isinstance(user, User):
        return user
    st.title(t("auth.title"))
    with st.form("login", enter_to_submit=True):
        name = st.text_input(t("auth.user"), key="login_user")
        password = st.text_input(t("auth.password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("auth.submit"))
    if submitted:
        user = login(accounts, name, password)
        if user is None:
            st.error(t("auth.failed"))
            return None
        st.session_state[SESSION_KEY] = user
        st.session_state.pop("login_password", None)
        st.rerun()
    return None


ACCESS_CHECK: Callable[[Mapping[str, Account]], User | None] = check_access


def current_user(accounts: Mapping[str, Account]) -> User | None:
    return ACCESS_CHECK(accounts)


def require(user: User, role: Role) -> None:
    """Stop the page with a clear message when the user lacks `role`."""
    if not user.can(role):
        st.warning(t("auth.denied", roles=user.roles_text()))
        st.stop()


def logout() -> None:
    st.session_state.pop(SESSION_KEY, None)


def main() -> None:
    """`python -m dashboard.auth`: print an argon2 hash for a password typed at the prompt."""
    from argon2 import PasswordHasher

    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        raise SystemExit("the passwords differ")
    print(PasswordHasher().hash(password))


if __name__ == "__main__":
    main()
