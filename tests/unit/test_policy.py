"""Rule 6's arithmetic, on a controlled clock."""

from datetime import UTC, datetime, timedelta

from shared.domain.policy import AssociationPolicy, describe_duration

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
POLICY = AssociationPolicy(
    max_per_window=3, window=timedelta(days=365), cool_off=timedelta(days=30)
)


def test_no_starts_nothing_limits() -> None:
    assert POLICY.limit_at([], T0) is None
    assert POLICY.starts_in_window([], T0) == 0


def test_cool_off_counts_from_the_previous_start_exactly() -> None:
    limit = POLICY.limit_at([T0], T0 + 29 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("cool_off", T0 + 30 * DAY)
    assert POLICY.limit_at([T0], T0 + 30 * DAY) is None
    assert POLICY.limit_at([T0], T0 + 30 * DAY - timedelta(microseconds=1)) is not None


def test_window_is_half_open_a_start_exactly_365_days_ago_no_longer_counts() -> None:
    starts = [T0, T0 + 40 * DAY, T0 + 80 * DAY]
    limit = POLICY.limit_at(starts, T0 + 200 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("yearly", T0 + 365 * DAY)
    assert POLICY.limit_at(starts, T0 + 365 * DAY) is None
    assert POLICY.starts_in_window(starts, T0 + 365 * DAY) == 2
    assert POLICY.starts_in_window(starts, T0 + 365 * DAY - timedelta(seconds=1)) == 3


def test_when_both_block_the_later_date_answers() -> None:
    starts = [T0, T0 + 40 * DAY, T0 + 350 * DAY]
    limit = POLICY.limit_at(starts, T0 + 355 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("cool_off", T0 + 380 * DAY)
    starts = [T0, T0 + 300 * DAY, T0 + 340 * DAY]
    limit = POLICY.limit_at(starts, T0 + 345 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("cool_off", T0 + 370 * DAY)
    limit = POLICY.limit_at(starts, T0 + 362 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("cool_off", T0 + 370 * DAY)
    starts = [T0, T0 + 31 * DAY, T0 + 62 * DAY]
    limit = POLICY.limit_at(starts, T0 + 100 * DAY)
    assert limit is not None
    assert (limit.kind, limit.next_available_at) == ("yearly", T0 + 365 * DAY)


def test_only_the_last_three_starts_matter_for_the_yearly_limit() -> None:
    starts = [T0 - 500 * DAY, T0 - 400 * DAY, T0 - 10 * DAY, T0 - 100 * DAY]
    limit = POLICY.limit_at(starts, T0)
    assert limit is not None
    assert limit.kind == "cool_off"


def test_messages_use_the_settings_numbers() -> None:
    short = AssociationPolicy(
        max_per_window=2, window=timedelta(hours=2), cool_off=timedelta(seconds=90)
    )
    limit = short.limit_at([T0], T0)
    assert limit is not None
    assert "a period of 90 seconds between associations" in short.message(limit)
    limit = short.limit_at([T0 - timedelta(minutes=100), T0 - timedelta(minutes=2)], T0)
    assert limit is not None
    assert "we allow 2 associations in any 2 hours." in short.message(limit)
    assert describe_duration(timedelta(days=1)) == "1 day"
    assert describe_duration(timedelta(days=365)) == "365 days"


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    limit = POLICY.limit_at([T0], T0 + 29 * DAY + timedelta(seconds=0.25))
    assert limit is not None
    from shared.services.link import association_limited

    refusal = association_limited(POLICY, limit, T0 + 29 * DAY + timedelta(seconds=0.25))
    assert refusal.headers["Retry-After"] == str(86_400)
    assert refusal.extra["next_available_at"] == "2026-01-31T12:00:00Z"
