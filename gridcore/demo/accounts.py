"""The demo accounts every demo world has (admin, leader, worker, viewer)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gridcore.access import SYSTEM
from gridcore.models import Area, Employment, UserCreate, UserRole, Worker, WorkerGrid
from gridcore.services.access import create_user

# The password of every demo account (shown in the README).
DEMO_PASSWORD = "gridcore-demo"


def create_demo_accounts(session: Session, *, worker_grid_code: str) -> None:
    """admin, leader, worker (scoped to `worker_grid_code`, and signed in as that grid's first
    full-time worker, whose tasks My tasks shows) and viewer, password gridcore-demo."""
    own_worker = session.exec(
        select(Worker.id)
        .join(WorkerGrid, col(WorkerGrid.worker_id) == col(Worker.id))
        .join(Area, col(Area.id) == col(WorkerGrid.grid_id))
        .where(Area.code == worker_grid_code, Worker.employment == Employment.full_time)
        .order_by(col(Worker.id))
    ).first()
    for username, role, full_name, grids, worker_id in (
        ("admin", UserRole.admin, "Administrator", [], None),
        ("leader", UserRole.leader, "Street leader", [], None),
        ("worker", UserRole.grid_worker, "Grid worker", [worker_grid_code], own_worker),
        ("viewer", UserRole.viewer, "Viewer", [], None),
    ):
        create_user(
            session,
            data=UserCreate(
                username=username,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                grid_codes=grids,
                worker_id=worker_id,
            ),
            actor=SYSTEM,
        )
