"""The demo accounts every demo world has (admin, leader, worker, viewer)."""

from __future__ import annotations

from sqlmodel import Session

from gridcore.access import SYSTEM
from gridcore.models import UserCreate, UserRole
from gridcore.services.access import create_user

# The password of every demo account (shown in the README).
DEMO_PASSWORD = "gridcore-demo"


def create_demo_accounts(session: Session, *, worker_grid_code: str) -> None:
    """admin, leader, worker (scoped to `worker_grid_code`) and viewer, password gridcore-demo."""
    for username, role, full_name, grids in (
        ("admin", UserRole.admin, "Administrator", []),
        ("leader", UserRole.leader, "Street leader", []),
        ("worker", UserRole.grid_worker, "Grid worker", [worker_grid_code]),
        ("viewer", UserRole.viewer, "Viewer", []),
    ):
        create_user(
            session,
            data=UserCreate(
                username=username,
                full_name=full_name,
                role=role,
                password=DEMO_PASSWORD,
                grid_codes=grids,
            ),
            actor=SYSTEM,
        )
