"""Integration fixtures: a migrated database with a school, a provider and professionals."""

from __future__ import annotations

import pytest

from oja import services as sv
from oja.adapters import migrate
from oja.adapters.db import get_engine, unit_of_work


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'oja.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    migrate.upgrade(url)
    engine = get_engine(url)
    with unit_of_work(engine) as s:
        sv.upsert_municipality(s, code="GM0164", name="Hengelo")
        sv.upsert_school(s, code="40AB", name="De School", holiday_region="noord", municipality_code="GM0164")
        sv.upsert_provider(s, code="PRV-A", name="Aanbieder A")
        sv.upsert_professional(s, code="PRF-1", name="Coördinator", role="zorgcoordinator", school_code="40AB")
        sv.upsert_professional(s, code="PRF-2", name="Hulpverlener", role="jeugdhulpverlener", provider_code="PRV-A")
    return engine
