"""Password hashing (R17): Argon2id, one lane, and hashes made before still verifying."""

import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from portal_ui.security import (
    HASH_COST_VARIABLE,
    PRODUCTION_COST,
    TEST_COST,
    hash_password,
    make_hasher,
    verify_password,
)

PASSWORD = "Blue-Otter-Sings-77"


def _hash_in_a_fresh_process(**env: str) -> str:
    """hash_password in a new interpreter, with the environment `serve` would have."""
    clean = {key: value for key, value in os.environ.items() if key != HASH_COST_VARIABLE}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from portal_ui.security import *; print(hash_password({PASSWORD!r}))",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_password_is_hashed_with_argon2id_in_one_lane_of_64_mib():  # R17
    # The tests hash at TEST_COST (tests/conftest.py): the production cost is the default.
    parameters = extract_parameters(_hash_in_a_fresh_process())
    assert parameters.type is Type.ID
    # One lane: one hash is one thread, so a burst of activations leaves cores to the pages;
    # memory and passes stay at RFC 9106's second recommendation (above OWASP's minimum).
    assert parameters.parallelism == 1
    assert parameters.memory_cost == 64 * 1024
    assert parameters.time_cost == 3


def test_a_hash_made_with_four_lanes_still_verifies():  # R17
    # Passwords set before the change were hashed with argon2-cffi's default (4 lanes).
    before = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).hash(PASSWORD)
    assert extract_parameters(before).parallelism == 4
    assert verify_password(before, PASSWORD)
    assert not verify_password(before, PASSWORD + "x")


def test_a_wrong_password_or_a_broken_hash_does_not_verify():  # R17
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, "Blue-Otter-Sings-78")
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize("cost", [PRODUCTION_COST, TEST_COST])
def test_hashes_of_either_cost_verify_whichever_cost_is_in_use(cost):  # R17
    stored = make_hasher(cost).hash(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")


def test_the_production_cost_is_named_explicitly_or_by_leaving_the_variable_unset():  # R17
    explicit = extract_parameters(_hash_in_a_fresh_process(**{HASH_COST_VARIABLE: "production"}))
    assert explicit == extract_parameters(make_hasher().hash(PASSWORD))
    assert (explicit.time_cost, explicit.memory_cost) == (3, 64 * 1024)


def test_an_unknown_cost_is_refused():
    with pytest.raises(ValueError, match=HASH_COST_VARIABLE):
        make_hasher("cheap")
