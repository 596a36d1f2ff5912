"""Who is acting: a user (web or token), an integration, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    kind: str  # user, token, integration, system
    id: str
    name: str
    role: str  # admin, member, viewer
    team_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_write_team(self, team_id: int | None) -> bool:
        if self.is_admin:
            return True
        if self.role != "member" or team_id is None:
            return False
        return team_id in self.team_ids

    def require_admin(self, what: str) -> None:
        if not self.is_admin:
            raise PermissionDenied(f"only an admin may {what}")

    def require_writer(self, what: str) -> None:
        """Members and admins write; viewers only read."""
        if self.role == "viewer":
            raise PermissionDenied(f"a viewer may not {what}")

    def require_team_write(self, team_id: int | None, what: str) -> None:
        if self.can_write_team(team_id):
            return
        if self.role == "viewer":
            raise PermissionDenied(f"a viewer may not {what}")
        raise PermissionDenied(f"only members of the owning team or an admin may {what}")


SYSTEM = Actor(kind="system", id="system", name="steward", role="admin")


def cli_actor() -> Actor:
    """Administration commands run on the local database act as the operator."""
    import getpass

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no login name on this host
        login = "operator"
    return Actor(kind="system", id="cli", name=f"cli:{login}", role="admin")
