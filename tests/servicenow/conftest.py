"""Hand-written ServiceNow exports for the import tests.

``snow.row(...)`` gives one row of the real export's 36 columns with plain
defaults (``?`` where the real export leaves a value out); ``snow.csv(rows)``
joins rows under the header the way ServiceNow writes them.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

HEADER = ("number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,"
          "caller_id,opened_by,opened_at,sys_created_by,sys_created_at,sys_updated_by,"
          "sys_updated_at,contact_type,location,category,subcategory,u_symptom,cmdb_ci,impact,"
          "urgency,priority,assignment_group,assigned_to,knowledge,u_priority_confirmation,"
          "notify,problem_id,rfc,vendor,caused_by,closed_code,resolved_by,resolved_at,"
          "closed_at").split(",")

DEFAULTS = {
    "incident_state": "New", "active": "true", "reassignment_count": "0", "reopen_count": "0",
    "sys_mod_count": "0", "made_sla": "true", "caller_id": "Caller 2403",
    "opened_by": "Opened by  8", "opened_at": "29/2/2016 01:16",
    "sys_created_by": "Created by 6", "sys_created_at": "29/2/2016 01:23",
    "sys_updated_by": "Updated by 21", "sys_updated_at": "29/2/2016 01:23",
    "contact_type": "Phone", "location": "Location 143", "category": "Category 55",
    "subcategory": "Subcategory 170", "u_symptom": "Symptom 72", "cmdb_ci": "?",
    "impact": "2 - Medium", "urgency": "2 - Medium", "priority": "3 - Moderate",
    "assignment_group": "Group 56", "assigned_to": "?", "knowledge": "true",
    "u_priority_confirmation": "false", "notify": "Do Not Notify", "problem_id": "?",
    "rfc": "?", "vendor": "?", "caused_by": "?", "closed_code": "code 5",
    "resolved_by": "Resolved by 149", "resolved_at": "?", "closed_at": "?",
}


def row(number: str, **fields: str) -> list[str]:
    unknown = set(fields) - set(HEADER)
    assert not unknown, f"not export columns: {unknown}"
    values = {**DEFAULTS, **fields, "number": number}
    return [values[name] for name in HEADER]


def csv(rows: list[list[str]], header: list[str] | None = None) -> str:
    lines = [",".join(header or HEADER)] + [",".join(r) for r in rows]
    return "\n".join(lines) + "\n"


def history(number: str = "INC0000045") -> list[list[str]]:
    """One incident's event log: New, Active (assigned), Resolved, Closed."""
    final = {"resolved_at": "29/2/2016 11:29", "closed_at": "5/3/2016 12:00"}
    return [
        row(number, sys_mod_count="0", sys_updated_at="29/2/2016 01:23", **final),
        row(number, incident_state="Active", sys_mod_count="1",
            sys_updated_at="29/2/2016 02:00", assigned_to="Resolver 12",
            sys_updated_by="Updated by 642", **final),
        row(number, incident_state="Resolved", sys_mod_count="2",
            sys_updated_at="29/2/2016 11:29", assigned_to="Resolver 12", **final),
        row(number, incident_state="Closed", active="false", sys_mod_count="3",
            sys_updated_at="5/3/2016 12:00", assigned_to="Resolver 12",
            sys_updated_by="Updated by 908", **final),
    ]


@pytest.fixture
def snow() -> SimpleNamespace:
    return SimpleNamespace(HEADER=HEADER, row=row, csv=csv, history=history)
