"""The Prefect UI through the gateway (`/prefect/...`): Prefect's V1 UI, served by the Prefect server under that base
path, passed on with three changes:

- its settings (`/prefect/ui-settings`) point it at the API here, on the engine's own address, ask no Prefect
  password of its own (the engine's login is the login) and offer one UI (V1: the one the steps' links open);
- its page carries the engine's bar (who is logged in, back to the dossier, log out) and hides the menu items
  the role may not open (no script: a link, a form, a style);
- a role without Prefect (the privacy officer) gets the dossier's refusal page, logged.
"""

from __future__ import annotations

import html

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from models.prefect_access import Capability, capabilities, may_use_prefect
from oja.dossier.gateway_log import Journal
from oja.dossier.gateway_proxy import API_PREFIX, DROPPED_RESPONSE, NO_PREFECT, Proxy, Upstream
from oja.dossier.security import CSP as DOSSIER_CSP
from oja.dossier.security import User, page
from oja.services.choices import role_label

UI_PREFIX = "/prefect"
# the Prefect UI is a script: its own headers, still no framing, no other site's scripts or connections
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)
# the menu items of the Prefect UI a role may not open (their pages would only show refusals)
MENU = {
    "/prefect/blocks": Capability.ADMINISTER,
    "/prefect/variables": Capability.ADMINISTER,
    "/prefect/automations": Capability.ADMINISTER,
    "/prefect/concurrency-limits": Capability.ADMINISTER,
    "/prefect/events": Capability.READ_EVENTS,
}
# what the UI reads of the server's settings, for anyone but the operator (who gets them all, secrets masked)
UI_SETTINGS_SHOWN = {
    "server": {"ui": {"enabled": True, "v2_enabled": False, "show_promotional_content": False}},
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": False,  # the key the UI 3.8 reads (no Prefect Cloud advertising)
}


async def ui(request: Request, user: User, proxy: Proxy, upstream: Upstream, journal: Journal) -> Response:
    if request.method not in ("GET", "HEAD"):
        return JSONResponse({"detail": "de Prefect UI wordt alleen gelezen"}, 405)
    if not may_use_prefect(user.role):
        rule = f"de rol {user.role} heeft geen toegang tot Prefect"
        await journal.refused_read(request, user, rule)
        refused = page(request, "refused.html", user, 403, rule=rule)
        refused.headers["Cache-Control"] = "no-store"
        refused.headers["Content-Security-Policy"] = DOSSIER_CSP
        return refused
    path = request.url.path
    if path == UI_PREFIX + "/v2" or path.startswith(UI_PREFIX + "/v2/"):
        return RedirectResponse(UI_PREFIX + "/", 303)  # one UI: the one the steps' links open
    if path == UI_PREFIX + "/ui-settings":
        return await ui_settings(request, proxy, upstream)
    if path.startswith((UI_PREFIX + "/assets/", UI_PREFIX + "/ico/")):
        response = await proxy.forward(request, upstream)  # hashed files: a browser may keep them
    else:
        response = await ui_page(request, user, proxy, upstream)  # the page itself: with the engine's bar
        response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = UI_CSP
    return response


async def ui_page(request: Request, user: User, proxy: Proxy, upstream: Upstream) -> Response:
    """The UI's page (the same index.html for every route of the UI) with the engine's bar in it."""
    headers = [(k, v) for k, v in proxy.headers(request, upstream) if k.lower() != "accept-encoding"]
    try:
        answer = await proxy.client().get(
            proxy.url(upstream, request, request.url.path), headers=[*headers, ("accept-encoding", "identity")]
        )
    except httpx.HTTPError:
        return JSONResponse({"detail": NO_PREFECT}, 502)
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED_RESPONSE | {"content-length"}}
    if "text/html" not in answer.headers.get("content-type", ""):
        return Response(answer.content, answer.status_code, headers=kept)
    page_html = answer.text.replace("</body>", engine_bar(user) + "</body>", 1)
    return Response(page_html, answer.status_code, headers=kept, media_type="text/html")


async def ui_settings(request: Request, proxy: Proxy, upstream: Upstream) -> Response:
    answer = await proxy.client().get(
        upstream.url + UI_PREFIX + "/ui-settings", headers={"Authorization": upstream.authorization}
    )
    settings = answer.json()
    settings.update(
        api_url=f"{request.url.scheme}://{request.headers.get('host', '')}{API_PREFIX}",
        auth=None,
        default_ui="v1",
        available_uis=["v1"],
        v2_base_url=None,
    )
    return JSONResponse(settings, headers={"Cache-Control": "no-store"})


def engine_bar(user: User) -> str:
    """The engine's bar in the Prefect UI: who is logged in, back to the dossier, log out; and a style hiding the
    menu items the role may not open."""
    allowed = capabilities(user.role)
    hidden = [f'a[href="{href}"]' for href, needed in MENU.items() if needed not in allowed]
    style = f"<style>{', '.join(hidden)} {{ display: none !important; }}</style>" if hidden else ""
    who = html.escape(f"{user.code} · {role_label(user.role)}")
    return (
        f'{style}<link rel="stylesheet" href="/static/gateway.css">'
        '<nav class="oja-balk" aria-label="OJA-engine">'
        f'<a href="/">← Dossier</a><span class="oja-wie">{who}</span>'
        '<form method="post" action="/uitloggen">'
        f'<input type="hidden" name="csrf" value="{html.escape(user.csrf)}">'
        '<button type="submit">Uitloggen</button></form></nav>'
    )
