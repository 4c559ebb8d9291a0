"""Run the Alembic migrations from code (the CLI, the local start and the tests use this)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from oja.adapters.db import normalise_url
from oja.config import PROJECT_DIR, get_settings


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_DIR / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url or get_settings().effective_database_url))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
