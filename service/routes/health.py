from __future__ import annotations

from fastapi import APIRouter, Request

from .. import store
from ..deps import HolderDep, SessionDep
from ..schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def health(request: Request, holder: HolderDep, session: SessionDep) -> HealthPublic:
    """Liveness and what is indexed; no key needed."""
    engine = holder.engine
    model = ""
    if engine is not None:
        model = str(
            (engine.manifest_.get("encoder") or {}).get("name") or engine.config.encoder.name
        )
    return HealthPublic(
        status="ok" if engine is not None else "empty",
        companies=len(engine.companies_) if engine is not None else 0,
        scenarios=len(engine.scenarios_) if engine is not None else 0,
        model=model or holder.settings.encoder,
        data_version=store.data_version(session),
        index_version=holder.version,
        saved_version=holder.saved_version,
        save_error=holder.save_error,
        erasures_pending=len(store.pending_erasures(session)),
        erase_error=holder.erase_error,
        rate_limits=request.app.state.limiter.state,
    )
