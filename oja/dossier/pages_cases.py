"""My cases, a case, its goal texts, and the subject-access export (placeholder while the services land)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
