"""Which stored text may become a link: http(s) only (steward.weburl)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from steward.changes.commands import RecordDeployment
from steward.incidents.commands import URL_NOT_LINKED, RecordAlert
from steward.weburl import WebUrl, screen_links, screen_url, web_href

# What a stored-XSS probe sends in a URL field; none may ever become a link.
HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjava\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "/relative/path",
    "mailto:someone@example.com",
    "https://exa mple.com/",
    "http://",
    "https:/only-one-slash",
    "",
    "   ",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_anything_but_an_absolute_http_url_is_text(value: str) -> None:
    assert web_href(value) is None


@pytest.mark.parametrize("value", ["https://ci.example.com/run/1?x=1#y", "http://10.0.0.1:8080/",
                                   "HTTPS://Example.com/Path", "https://[::1]:9093/graph"])
def test_http_and_https_urls_are_links(value: str) -> None:
    assert web_href(value) == value
    assert web_href(f"  {value}\n") == value


def test_non_strings_are_never_links() -> None:
    assert web_href(None) is None
    assert web_href(42) is None
    assert web_href({"url": "https://x.example"}) is None


class Body(BaseModel):
    url: WebUrl


def test_the_schema_type_refuses_other_schemes_naming_the_field() -> None:
    assert Body(url=" https://x.example/a ").url == "https://x.example/a"
    for value in ("javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "vbscript:x"):
        with pytest.raises(ValidationError) as info:
            Body(url=value)
        error = info.value.errors()[0]
        assert error["loc"] == ("url",)
        assert "http" in error["msg"]


def test_ingest_screening_keeps_the_text_of_a_refused_url() -> None:
    assert screen_url(None) == (None, None)
    assert screen_url("  ") == (None, None)
    assert screen_url("https://ok.example") == ("https://ok.example", None)
    assert screen_url(" javascript:alert(1)") == (None, "javascript:alert(1)")
    kept, refused = screen_links({"pipeline": "https://ci.example/1", "pr": "data:text/html,x"})
    assert kept == {"pipeline": "https://ci.example/1"}
    assert refused == {"pr": "data:text/html,x"}


def test_an_alert_with_a_bad_url_keeps_it_as_text_in_its_details() -> None:
    cmd = RecordAlert(dedup_key="k", status="firing", url="javascript:alert(1)",
                      details={"runbook": "see wiki"})
    assert cmd.url is None
    assert cmd.details == {"runbook": "see wiki", URL_NOT_LINKED: "javascript:alert(1)"}
    good = RecordAlert(dedup_key="k", status="firing", url="https://prom.example/graph")
    assert good.url == "https://prom.example/graph"
    assert URL_NOT_LINKED not in good.details


def test_a_deployment_with_bad_links_keeps_them_as_text_in_its_description() -> None:
    cmd = RecordDeployment(environment="production", status="succeeded", service="api",
                           url="vbscript:msgbox(1)", description="Deploy 1.2",
                           links={"pipeline": "https://ci.example/7", "pr": "javascript:x"})
    assert cmd.url is None
    assert cmd.links == {"pipeline": "https://ci.example/7"}
    assert cmd.description == ("Deploy 1.2 (not linked, not http(s): url 'vbscript:msgbox(1)', "
                               "links.pr 'javascript:x')")
    # Building it again (dataclasses.replace) changes nothing more.
    from dataclasses import replace

    assert replace(cmd, version="1.2") == replace(cmd, version="1.2", description=cmd.description)
    assert replace(cmd).description == cmd.description
