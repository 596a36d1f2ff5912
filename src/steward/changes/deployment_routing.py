"""Which service a deployment is for, and whether a CI workflow run is a deployment.

Sent with an integration key, a deployment is routed by the rule every event source
shares (``catalog.event_routing``); without one (a person's API token) it names its
service, or its repository maps to one through the catalog.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import Integration
from steward.catalog.event_routing import Refused, catalog_service, route_event
from steward.catalog.models import Service
from steward.changes.commands import RecordDeployment
from steward.errors import ValidationError

SLUG_ANNOTATIONS = ("github.com/project-slug", "gitlab.com/project-slug")
# A service's CI workflows that deploy it (names or file paths, comma separated).
DEPLOY_WORKFLOWS_ANNOTATION = "steward.dev/deploy-workflows"


def route_deployment(session: Session, integration: Integration | None,
                     cmd: RecordDeployment) -> tuple[Service, RecordDeployment]:
    """The service a deployment is for, and the command as recorded.

    Sent with an integration key, by the rule every event source shares
    (``catalog.event_routing``): the service the event names (or its repository
    maps to) when the key may send for it, a refusal when it may not, else the
    key's own service, with a name the catalog does not know kept in the
    description. Without a key (a person's API token): :func:`service_for`.
    """
    if integration is None:
        return service_for(session, cmd), cmd
    named, noun, found = None, "service", None
    if cmd.service:
        named = cmd.service.strip()
        found = session.scalar(select(Service).where(Service.name == named))
    elif cmd.repository:
        named, noun = cmd.repository.strip(), "repository"
        found = service_for_repository(session, named)
    own = session.get(Service, integration.service_id) if integration.service_id else None
    route = route_event(named=named, found=catalog_service(found), noun=noun,
                        key_team_id=integration.team_id, key_service=catalog_service(own))
    if isinstance(route, Refused):
        raise route.error(cmd.named_field or noun)
    service = found if found is not None and found.id == route.service.id else own
    assert service is not None
    if route.unknown:
        note = (f"sent for service {route.unknown!r}, which is not in the catalog"
                if noun == "service" else
                f"sent for repository {route.unknown!r}, which maps to no service")
        cmd = replace(cmd, description=f"{cmd.description} ({note})" if cmd.description
                      else note[0].upper() + note[1:])
    return service, cmd


def service_for(session: Session, cmd: RecordDeployment) -> Service:
    """The service a deployment is for: by name, or by repository slug."""
    if cmd.service:
        service = session.scalar(select(Service).where(Service.name == cmd.service))
        if service is None:
            raise ValidationError(f"service: service {cmd.service!r} does not exist",
                                  field="service")
        return service
    if cmd.repository:
        found = service_for_repository(session, cmd.repository)
        if found is None:
            raise ValidationError(
                f"repository: no service is mapped to {cmd.repository!r}; annotate one with "
                "github.com/project-slug or gitlab.com/project-slug, or give it a repo link",
                field="repository")
        return found
    raise ValidationError("service: name the service (or the repository)", field="service")


def workflow_ignored(session: Session, cmd: RecordDeployment) -> str | None:
    """Why a finished CI workflow run is not a deployment, or None when it is one.

    A service that lists its deploying workflows in the ``steward.dev/deploy-workflows``
    annotation (names or file paths, comma separated) is deployed by those alone.
    Otherwise a workflow says it deploys by its name or file name starting with
    "deploy" (``Deploy``, ``deploy-production.yml``).
    """
    if cmd.workflow is None:
        return None
    name, path = (part.strip() for part in cmd.workflow)
    service = None
    if cmd.service:
        service = session.scalar(select(Service).where(Service.name == cmd.service))
    elif cmd.repository:
        service = service_for_repository(session, cmd.repository)
    listed = str(((service.annotations or {}) if service else {}).get(
        DEPLOY_WORKFLOWS_ANNOTATION, ""))
    wanted = {w.strip().lower() for w in listed.split(",") if w.strip()}
    file_name = path.rsplit("/", 1)[-1]
    if wanted:
        if wanted & {name.lower(), path.lower(), file_name.lower()}:
            return None
        return (f"workflow {name or path!r} is not one of {service.name if service else ''}'s "
                f"deploying workflows ({DEPLOY_WORKFLOWS_ANNOTATION}: {listed})")
    if name.lower().startswith("deploy") or file_name.lower().startswith("deploy"):
        return None
    return (f"workflow {name or path!r} does not deploy (its name or file name does not "
            f"start with 'deploy', and no service lists it in {DEPLOY_WORKFLOWS_ANNOTATION})")


def service_for_repository(session: Session, slug: str) -> Service | None:
    slug = slug.strip().strip("/").lower()
    services = list(session.scalars(select(Service)))
    for service in services:
        annotations = service.annotations or {}
        if any(str(annotations.get(key, "")).strip().lower() == slug
               for key in SLUG_ANNOTATIONS):
            return service
    for service in services:
        for link in service.links or []:
            url = str(link.get("url", "")).lower().removesuffix(".git").rstrip("/")
            if link.get("type") == "repo" and url.endswith(("/" + slug, ":" + slug)):
                return service
    return None
