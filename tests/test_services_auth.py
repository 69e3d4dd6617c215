"""Accounts: passwords are stored as argon2id hashes at the library's recommended cost."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from gridcore.services.auth import hash_password, verify_password


def test_the_product_hashes_at_the_recommended_cost(
    cheap_password_hashing: PasswordHasher,
) -> None:
    """Tests hash cheaply (tests/conftest.py); the product's own hasher must not."""
    product = cheap_password_hashing
    assert product.type is Type.ID
    assert product.time_cost >= RFC_9106_LOW_MEMORY.time_cost
    assert product.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost
    assert product.parallelism >= RFC_9106_LOW_MEMORY.parallelism


def test_a_hash_verifies_its_password_and_no_other() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")
    assert not verify_password("not a hash", "correct horse battery")
