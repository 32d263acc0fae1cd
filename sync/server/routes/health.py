from fastapi import APIRouter

from fieldapp.core.protocol import Health

router = APIRouter()


@router.get("/health", response_model=Health, summary="Is the server up")
def health() -> Health:
    return Health()
