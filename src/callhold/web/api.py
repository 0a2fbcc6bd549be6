"""The JSON API (placeholder router; the API module is being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
