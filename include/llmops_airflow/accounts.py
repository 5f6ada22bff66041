"""Create or update the admin login of a production Airflow that runs Airflow's FAB auth manager (users and roles).

``python -m llmops_airflow.accounts`` reads ``AIRFLOW_ADMIN_USER`` and ``AIRFLOW_ADMIN_PASSWORD`` from the environment
(never from its command line) and makes that user an ``Admin``: created when missing, its password set to the given
one when it exists (so rotating the secret and re-running the init container rotates the login). Reviewers and
operators are added by the admin in the UI (*Security → List Users*) with the ``User``/``Op`` roles; the approval
task can be restricted to named reviewers (``promotion.approvers``).
"""

from __future__ import annotations

import os
import sys

ADMIN_ROLE = "Admin"


def ensure_admin(username: str, password: str) -> str:
    """Make ``username`` an Admin with ``password``. Returns ``"created"`` or ``"updated"``."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    if len(password) < 12:
        raise ValueError("AIRFLOW_ADMIN_PASSWORD must have at least 12 characters")
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        role = sm.find_role(ADMIN_ROLE)
        if role is None:
            raise RuntimeError(f"the FAB role {ADMIN_ROLE!r} does not exist: run `airflow db migrate` first")
        user = sm.find_user(username=username)
        if user is None:
            if not sm.add_user(username, username, "admin", f"{username}@localhost", role, password):
                raise RuntimeError(f"could not create the Airflow user {username!r}")
            return "created"
        if not sm.reset_password(user.id, password):
            raise RuntimeError(f"could not set the password of the Airflow user {username!r}")
        if role not in user.roles:
            user.roles.append(role)
            sm.update_user(user)
        return "updated"


def main() -> int:
    try:
        username, password = os.environ["AIRFLOW_ADMIN_USER"], os.environ["AIRFLOW_ADMIN_PASSWORD"]
    except KeyError as exc:
        print(f"missing environment variable {exc.args[0]}", file=sys.stderr)
        return 2
    try:
        outcome = ensure_admin(username, password)
    except (ValueError, RuntimeError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Airflow admin {username!r} {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
