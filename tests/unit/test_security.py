"""Password hashing (R17): Argon2id, one lane, and hashes made before still verifying."""

from argon2 import PasswordHasher, extract_parameters
from argon2.low_level import Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from portal_ui.security import hash_password, verify_password

PASSWORD = "Blue-Otter-Sings-77"


def test_a_password_is_hashed_with_argon2id_in_one_lane_of_64_mib():  # R17
    parameters = extract_parameters(hash_password(PASSWORD))
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
