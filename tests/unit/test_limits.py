"""Limits counted in the database (R33, R16, R37): atomic under parallel requests, counted
before the work they guard, windows that end, and the client's address behind proxies."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from ipaddress import ip_network

from sqlalchemy import func, select

from portal_ui import limits
from portal_ui.clock import utcnow
from portal_ui.db import session_scope
from portal_ui.models import LimitCounter

FIVE = limits.Limit("test", 5, timedelta(minutes=15))


def test_uses_within_the_limit_are_allowed_and_the_next_is_not(session):  # R33
    moment = utcnow()
    answers = [limits.take(session, [(FIVE, "a")], moment) for _ in range(7)]
    assert answers == [True] * 5 + [False] * 2


def test_a_parallel_burst_meets_the_limit_exactly(engine):  # R33
    def attempt(_n: int) -> bool:
        with session_scope(engine) as session:
            return limits.take(session, [(FIVE, "burst")])

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(attempt, range(30)))
    assert answers.count(True) == 5


def test_every_counter_of_an_attempt_must_allow_it(session):  # R33
    moment = utcnow()
    loose = limits.Limit("loose", 100, timedelta(minutes=15))
    for _ in range(5):
        assert limits.take(session, [(FIVE, "x"), (loose, "y")], moment)
    assert not limits.take(session, [(loose, "y"), (FIVE, "x")], moment)


def test_subjects_are_counted_apart(session):  # R33
    moment = utcnow()
    for _ in range(5):
        limits.take(session, [(FIVE, "one")], moment)
    assert limits.take(session, [(FIVE, "other")], moment)


def test_a_window_ends_its_length_after_its_first_use(session):  # R33 R16
    start = utcnow()
    for _ in range(5):
        limits.take(session, [(FIVE, "a")], start)
    assert not limits.take(session, [(FIVE, "a")], start + timedelta(minutes=14))
    assert limits.take(session, [(FIVE, "a")], start + timedelta(minutes=15, seconds=1))


def test_once_an_hour_means_an_hour_after_the_last_use(session):  # R16
    start = utcnow().replace(minute=59)
    assert limits.take(session, [(limits.NEW_LINK_PER_ADDRESS, "7")], start)
    assert not limits.take(
        session, [(limits.NEW_LINK_PER_ADDRESS, "7")], start + timedelta(minutes=2)
    )


def test_a_use_given_back_is_not_counted(session):  # R33: only failures add up
    moment = utcnow()
    for _ in range(20):
        assert limits.take(session, [(FIVE, "good")], moment)
        limits.give_back(session, [(FIVE, "good")], moment)


def test_counters_of_ended_windows_are_removed(session):  # R33
    start = utcnow()
    limits.take(session, [(FIVE, "old")], start)
    limits.take(session, [(FIVE, "new")], start + timedelta(hours=1))
    keys = session.scalars(select(LimitCounter.key)).all()
    assert keys == [FIVE.key("new")]
    assert session.scalar(select(func.count()).select_from(LimitCounter)) == 1


def test_sign_in_counts_per_address_and_place_per_address_and_per_place():  # R33
    names = [limit.name for limit, _ in limits.sign_in_limits("staff", "A@x.test", "1.2.3.4")]
    subjects = [subject for _, subject in limits.sign_in_limits("staff", "A@x.test", "1.2.3.4")]
    assert names == ["sign-in", "sign-in-address", "sign-in-ip"]
    assert subjects == ["staff:a@x.test|1.2.3.4", "staff:a@x.test", "staff:1.2.3.4"]


def test_a_stranger_elsewhere_cannot_use_up_the_holder_s_own_tries(session):  # R33
    moment = utcnow()
    for _ in range(5):
        limits.take(session, limits.sign_in_limits("client", "c@x.test", "203.0.113.9"), moment)
    assert not limits.take(
        session, limits.sign_in_limits("client", "c@x.test", "203.0.113.9"), moment
    )
    assert limits.take(session, limits.sign_in_limits("client", "c@x.test", "198.51.100.1"), moment)


PROXY = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))


def test_the_connection_s_address_counts_when_no_proxy_is_trusted():  # R33
    assert limits.client_ip("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"
    assert limits.client_ip("198.51.100.2", "203.0.113.5", PROXY) == "198.51.100.2"


def test_a_trusted_proxy_s_forwarded_address_counts():  # R33
    assert limits.client_ip("127.0.0.1", "203.0.113.5", PROXY) == "203.0.113.5"


def test_what_the_client_wrote_before_the_proxies_is_not_believed():  # R33
    # The client sent "X-Forwarded-For: 1.1.1.1"; our proxies appended the real address.
    forwarded = "1.1.1.1, 203.0.113.5, 10.0.0.3"
    assert limits.client_ip("127.0.0.1", forwarded, PROXY) == "203.0.113.5"


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_connection():  # R33
    assert limits.client_ip("127.0.0.1", "garbage", PROXY) == "127.0.0.1"
    assert limits.client_ip(None, None, PROXY) == "unknown"
