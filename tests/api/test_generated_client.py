"""A client generated from /openapi.json by openapi-python-client works against Steward.

The generator must take every operation (no endpoint skipped, no warning), and the
generated package, talking to the application, gets typed answers: a team, a
service, an alert posted with an integration key, the incident listed and
acknowledged, and the errors (422, 409) parsed into the generated error model.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from helpers import make_user

from steward.app import create_app
from steward.config import Settings
from steward.db import Database

pytest.importorskip("openapi_python_client", reason="openapi-python-client is not installed")

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "openapi-python-client.yaml"
PACKAGE = "steward_api_client"


@pytest.fixture
def app(sqlite_db):  # type: ignore[no-untyped-def]
    return create_app(sqlite_db.settings, database=sqlite_db)


@pytest.fixture(scope="module")
def generated(sqlite_template: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The client package generated from the served document, and the generator's output."""
    tmp_path = tmp_path_factory.mktemp("client")
    db = Database(Settings(database_url=f"sqlite:///{sqlite_template}"))
    document = TestClient(create_app(db.settings, database=db)).get("/openapi.json")
    db.dispose()
    assert document.status_code == 200
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document.json()))
    config = yaml.safe_load(CONFIG.read_text())
    config["post_hooks"] = []  # no formatting: the test only imports the package
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
         "--output-path", str(tmp_path / PACKAGE), "--meta", "none",
         "--config", str(config_path)],
        capture_output=True, text=True, timeout=300, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE), output
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(package: Any, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def connect(package: Any, app: Any, token: str) -> Any:
    """A generated AuthenticatedClient whose requests go to the application in process."""
    client = package.AuthenticatedClient(base_url="http://testserver", token=token)
    client.set_httpx_client(TestClient(app, base_url="http://testserver",
                                       headers={"Authorization": f"Bearer {token}"}))
    return client


def test_the_generator_takes_every_operation_without_a_warning(generated):  # type: ignore[no-untyped-def]
    package, output = generated
    assert "Warning" not in output and "WARNING" not in output, output
    assert "will not be generated" not in output, output
    for name in ("ingest.post_alerts", "catalog.import_backstage",
                 "imports.import_servicenow_export", "incidents.act_on_incident"):
        assert hasattr(module(package, f"api.{name}"), "sync_detailed"), name


def test_a_generated_client_works_the_incident_flow_with_typed_answers(
        generated, app, sqlite_db):  # type: ignore[no-untyped-def]
    package, _ = generated
    models = module(package, "models")
    client = connect(package, app, make_user(sqlite_db, "root", role="admin"))

    team = module(package, "api.catalog.create_team").sync(
        client=client, body=models.TeamCreate(name="payments", display_name="Payments"))
    assert isinstance(team, models.TeamOut) and team.display_name == "Payments"
    service = module(package, "api.catalog.create_service").sync(
        client=client, body=models.ServiceCreate(name="ledger", owner="payments", tier=1))
    assert isinstance(service, models.ServiceOut)
    assert (service.owner, service.tier) == ("payments", 1)
    integration = module(package, "api.deployments.create_integration").sync(
        client=client, body=models.IntegrationCreate(type_="generic", service="ledger"))
    assert isinstance(integration, models.IntegrationCreated) and integration.key

    posted = module(package, "api.ingest.post_alerts").sync_detailed(
        client=connect(package, app, integration.key),
        body=models.AlertIn(dedup_key="disk-full", status=models.AlertInStatus.FIRING,
                            summary="ledger disk is full"))
    assert posted.status_code == 202
    accepted = posted.parsed
    assert isinstance(accepted, models.AlertsAccepted) and accepted.alerts == 1
    incident_id = accepted.results[0].incident_id

    listed = module(package, "api.incidents.list_incidents").sync(
        client=client, status="triggered", service="ledger")
    assert [i.id for i in listed.items] == [incident_id] and listed.total == 1
    assert listed.items[0].services == ["ledger"]
    assert listed.items[0].started_at.tzinfo is not None  # parsed into an aware datetime

    act = module(package, "api.incidents.act_on_incident")
    acknowledged = act.sync(client=client, incident_id=incident_id, action="acknowledge",
                            body=models.ActionBody(note="on it"))
    assert isinstance(acknowledged, models.IncidentDetailOut)
    assert acknowledged.status == "acknowledged"
    assert [a.dedup_key for a in acknowledged.alerts] == ["disk-full"]

    again = act.sync_detailed(client=client, incident_id=incident_id, action="acknowledge",
                              body=models.ActionBody())
    assert again.status_code == 409
    assert isinstance(again.parsed, models.ErrorOut)
    assert again.parsed.field == "status" and "acknowledged" in again.parsed.error


def test_bad_input_comes_back_as_the_generated_error_model(generated, app, sqlite_db):  # type: ignore[no-untyped-def]
    package, _ = generated
    models = module(package, "models")
    client = connect(package, app, make_user(sqlite_db, "root", role="admin"))
    refused = module(package, "api.catalog.create_service").sync_detailed(
        client=client, body=models.ServiceCreate(name="ledger", tier=9))
    assert refused.status_code == 422
    error = refused.parsed
    assert isinstance(error, models.ErrorOut)
    assert error.field == "tier" and error.error.startswith("tier:")
    assert [(d.field, type(d)) for d in error.details] == [("tier", models.ErrorDetail)]
    unknown = module(package, "api.incidents.get_incident").sync_detailed(
        client=client, incident_id=12345)
    assert unknown.status_code == 404 and isinstance(unknown.parsed, models.ErrorOut)
    anonymous = module(package, "api.catalog.list_teams").sync_detailed(
        client=connect(package, app, "stw_not-a-token"))
    assert anonymous.status_code == 401 and isinstance(anonymous.parsed, models.ErrorOut)
