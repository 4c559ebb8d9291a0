"""Every deployment is named after its step, in lifecycle order, and oja/deployments.py says what prefect.yaml says.

The Prefect UI lists deployments by name, A to Z: the numbers put the Deployments page in the order of
an arrangement's life. Code finds a deployment through `deployment_path`, so a name that prefect.yaml and
the mapping disagree on would make every lookup miss.
"""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from prefect.types.names import BANNED_CHARACTERS

from oja.config import PROJECT_DIR
from oja.deployments import (
    DEPLOYMENTS,
    MAX_NAME_LENGTH,
    deployment_name,
    deployment_path,
    undeclared,
)


def _declared() -> list[tuple[str, str]]:
    """(flow name, deployment name) of every deployment in prefect.yaml, in the file's order."""
    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    pairs = []
    for deployment in spec["deployments"]:
        path, func = deployment["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        pairs.append((getattr(module, func).name, deployment["name"]))
    return pairs


def test_the_mapping_says_what_prefect_yaml_declares_in_the_same_order():
    assert _declared() == list(DEPLOYMENTS.items())


def test_every_deployment_is_named_after_its_step_and_the_names_sort_in_lifecycle_order():
    names = [name for _, name in _declared()]
    assert len(names) == 18 and len(set(names)) == len(names)
    for number, name in enumerate(names, start=1):
        # the step's number, then the step in Dutch words: "01 Signaal registreren", never the old "oja"
        assert re.fullmatch(rf"{number:02d} [A-Z][a-zë]+( [a-zë0-9]+)*", name), name
    assert sorted(names) == names  # what the UI's "A to Z" shows: the lifecycle, then the scheduled work
    first = {name.split()[1].lower() for name in names}
    assert {"signaal", "triage", "evaluatie", "monitoring", "herinneringsronde"} <= first


def test_every_name_is_allowed_by_prefect_and_fits_the_deployment_column():
    for flow, name in DEPLOYMENTS.items():
        assert not set(name) & set(BANNED_CHARACTERS), name
        assert len(name) <= MAX_NAME_LENGTH, f"{name!r} is cut off in the UI's Deployment column"
        assert deployment_path(flow) == f"{flow}/{name}"


def test_the_scheduled_deployments_come_last():
    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    scheduled = [bool(d.get("schedules")) for d in spec["deployments"]]
    assert scheduled == sorted(scheduled) and sum(scheduled) == 4  # people start what is on the first page


def test_a_flow_without_a_deployment_is_named_in_the_error():
    with pytest.raises(LookupError, match="'signaal'"):
        deployment_path("signaal")


def test_only_the_engines_deployments_left_by_a_rename_are_undeclared():
    deployed = [
        ("triage", "oja"),  # the name every deployment had before
        ("triage", deployment_name("triage")),
        ("dagelijkse-herinneringen", "oja"),
        ("iets-anders", "oja"),  # another project's flow on the same server: not ours to remove
    ]
    assert undeclared(deployed) == [("triage", "oja"), ("dagelijkse-herinneringen", "oja")]


def test_no_step_says_its_run_waits_for_resume():
    """No lifecycle run pauses (issue 23, item 17): a description or docstring that promises a Resume is stale."""
    spec = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    stale = re.compile(r"resume|hervat|wacht op uw|pauze", re.IGNORECASE)
    for deployment in spec["deployments"]:
        path, func = deployment["entrypoint"].split(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), func)
        for text in (deployment.get("description") or "", flow.description or ""):
            assert not stale.search(text), (deployment["name"], text)
