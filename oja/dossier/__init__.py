"""The engine's front, behind one login: the dossier, where professionals see the personal side of their cases,
and the gateway through which they reach the Prefect UI and API.

`app.create_app` builds it; `oja start` serves it (port 4201), `oja dossier` alone. Pages: `pages_cases.py` (my
cases, a case, goal texts, the subject-access export), `pages_pupils.py` (register and import pupils),
`pages_oversight.py` (the manager's report and figures, the privacy officer's access log); `security.py` is the
login, the sessions, CSRF and the headers every page carries. The gateway (`/prefect/`, `/api/`): `gateway.py`,
with `gateway_steps.py`, `gateway_ui.py`, `gateway_log.py` and `gateway_proxy.py`.
"""
