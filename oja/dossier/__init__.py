"""The dossier: the web pages, behind a login, where professionals see the personal side of their cases.

`app.create_app` builds the application; `oja start` serves it beside the Prefect UI (port 4201), `oja dossier`
alone. Pages: `pages_cases.py` (my cases, a case, goal texts, the subject-access export), `pages_pupils.py`
(register and import pupils), `pages_oversight.py` (the manager's report and figures, the privacy officer's
access log); `security.py` is the login, the sessions, CSRF and the headers every page carries.
"""
