"""The console page as served: a strict Content-Security-Policy, no inline script, data rendered as
text only; and ``GET /api/v1/me``, which tells the console whose token it holds."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
from console_live import ADMIN, LiveCallhold
from console_page import ConsolePage, expect

import callhold.web.console

STATIC = Path(callhold.web.console.__file__).parent / "static"


class _Tags(HTMLParser):
    """Every start tag of a document, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_page_and_its_assets_carry_a_strict_content_security_policy(live: LiveCallhold) -> None:
    page = httpx.get(f"{live.base_url}/console")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(
        directive.strip().split(" ", 1) for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assets = {path.name for path in STATIC.iterdir()} - {"console.html"}
    assert {"console.js", "console.css", "session.js", "callcard.js"} <= assets
    for asset in sorted(assets):
        media_type = {".js": "text/javascript", ".css": "text/css"}[Path(asset).suffix]
        response = httpx.get(f"{live.base_url}/console/{asset}")
        assert response.status_code == 200, asset
        assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
        assert response.headers["content-security-policy"] == page.headers["content-security-policy"]
        assert response.headers["cache-control"] == page.headers["cache-control"] == "no-cache"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.content == (STATIC / asset).read_bytes()
    for missing in ("nothing.js", "console.html", "console.py", "..%2Fconsole.py", "%2e%2e", "static/dom.js"):
        response = httpx.get(f"{live.base_url}/console/{missing}")
        assert response.status_code == 404, missing
        assert response.headers["content-type"] == "application/problem+json", missing


def test_a_browser_that_has_a_file_already_gets_a_304_without_its_body(live: LiveCallhold) -> None:
    for path in ("/console", "/console/console.js", "/console/console.css"):
        first = httpx.get(f"{live.base_url}{path}")
        etag = first.headers["etag"]
        assert first.status_code == 200 and first.content and etag.startswith('"')
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            again = httpx.get(f"{live.base_url}{path}", headers={"If-None-Match": sent})
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
            assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
        changed = httpx.get(f"{live.base_url}{path}", headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200 and changed.content == first.content
    tags = {httpx.get(f"{live.base_url}/console/{name}").headers["etag"] for name in ("api.js", "dom.js")}
    assert len(tags) == 2  # one per content


def test_the_page_has_no_inline_script_or_style_and_the_script_writes_no_markup() -> None:
    parser = _Tags()
    parser.feed((STATIC / "console.html").read_text())
    scripts, preloaded = [], set()
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "style" not in attrs, (tag, attrs)
        if tag == "script":
            scripts.append(attrs)
        if tag == "link" and attrs.get("rel") == "modulepreload":
            preloaded.add(attrs.get("href"))
    assert scripts == [{"type": "module", "src": "/console/console.js"}]
    assert "<script>" not in (STATIC / "console.html").read_text()
    modules = sorted(STATIC.glob("*.js"))
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function")
    # Every module the entry point imports is fetched at once, not one import level at a time.
    assert preloaded == {f"/console/{module.name}" for module in modules} - {"/console/console.js"}
    for module in modules:
        script = module.read_text()
        for sink in sinks:
            assert sink not in script, (module.name, sink)
        for imported in re.findall(r'^import .* from "([^"]+)";$', script, re.MULTILINE):
            assert re.fullmatch(r"\./[a-z]+\.js", imported) and (STATIC / imported).exists(), imported


def test_data_from_the_api_is_shown_as_text_never_run_as_markup(console: ConsolePage) -> None:
    live = console.live
    hostile = '<img src=x onerror="document.body.dataset.pwned=1"><b>Eve</b>'
    body = {"id": "eve", "name": hostile, "endpoint": "client:eve"}
    eve = live.request("POST", "/agents", json=body).json()["token"]
    sid = live.customer_calls()
    assert live.request("POST", f"/calls/{sid}/hold", json={"reason": hostile}).status_code == 200

    console.sign_in(eve)
    expect(console.page.locator("#who-name")).to_have_text(hostile)
    card = console.call(sid)
    expect(card.locator("[data-part=reason]")).to_have_text(f"Reason: {hostile}")
    expect(console.page.locator("#holds li")).to_contain_text(hostile)
    expect(console.page.locator("main img, header img, main b")).to_have_count(0)
    assert console.page.evaluate("document.body.dataset.pwned") is None


def test_me_tells_the_admin_from_an_agent_and_refuses_a_wrong_token(live: LiveCallhold) -> None:
    alice = live.agent("alice", available=False)

    admin = live.request("GET", "/me")
    assert admin.status_code == 200 and admin.json() == {"admin": True, "agent": None}
    agent = live.request("GET", "/me", alice)
    assert agent.status_code == 200
    assert agent.json() == {
        "admin": False,
        "agent": {
            "id": "alice",
            "name": "Alice",
            "endpoint": "client:alice",
            "available": False,
            "away": True,
            "placing_to": None,
        },
    }
    for token in ("not-a-token", None):
        refused = live.request("GET", "/me", token)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["title"] == "Unauthorized"
    assert live.request("GET", "/me", ADMIN).json()["admin"] is True

    document = httpx.get(f"{live.base_url}/openapi.json").json()
    operation = document["paths"]["/api/v1/me"]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert "Whoami" in str(operation["responses"]["200"])
    assert {"401", "404", "422"} <= set(operation["responses"])
    assert not any(re.match(r"/console", path) for path in document["paths"])
