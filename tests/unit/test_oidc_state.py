"""Signed OIDC state: only states this server issued, unaltered and recent, yield a nonce."""

from __future__ import annotations

import pytest

from lti_app.lti import oidc_state

SECRET = "unit-secret"
NOW = 1_800_000_000.0
TTL = 600


def test_an_issued_state_yields_its_nonce_within_its_lifetime():
    state, nonce = oidc_state.issue(SECRET, NOW)
    assert state.startswith("state-")
    assert oidc_state.expected_nonce(SECRET, state, NOW, TTL) == nonce
    assert oidc_state.expected_nonce(SECRET, state, NOW + TTL, TTL) == nonce


def test_every_login_gets_its_own_state_and_nonce():
    pairs = {oidc_state.issue(SECRET, NOW) for _ in range(50)}
    assert len({state for state, _ in pairs}) == len({nonce for _, nonce in pairs}) == 50


def test_an_expired_state_or_one_from_the_far_future_is_refused():
    state, _ = oidc_state.issue(SECRET, NOW)
    assert oidc_state.expected_nonce(SECRET, state, NOW + TTL + 1, TTL) is None
    assert oidc_state.expected_nonce(SECRET, state, NOW - oidc_state.CLOCK_SKEW - 1, TTL) is None


def test_a_state_signed_with_another_secret_is_refused():
    state, _ = oidc_state.issue("another-secret", NOW)
    assert oidc_state.expected_nonce(SECRET, state, NOW, TTL) is None


def _altered(state: str, part: int, value: str) -> str:
    random, issued, mac = state.removeprefix("state-").split(".")
    parts = [random, issued, mac]
    parts[part] = value
    return "state-" + ".".join(parts)


@pytest.mark.parametrize(
    ("part", "value"),
    [(0, "A" * 32), (1, str(int(NOW) + 100)), (1, "²"), (2, "A" * 43), (2, "")],
)
def test_an_altered_state_is_refused(part, value):
    state, _ = oidc_state.issue(SECRET, NOW)
    assert oidc_state.expected_nonce(SECRET, _altered(state, part, value), NOW, TTL) is None


@pytest.mark.parametrize("state", ["", "state-", "state-made-up", "nonsense", "state-a.b.c.d"])
def test_malformed_states_are_refused(state):
    assert oidc_state.expected_nonce(SECRET, state, NOW, TTL) is None


def test_the_launch_check_agrees_with_the_nonce_for_every_state():
    """``genuine`` (what a launch checks before spending the state) refuses exactly what
    ``expected_nonce`` refuses."""
    state, _ = oidc_state.issue(SECRET, NOW)
    other, _ = oidc_state.issue("another-secret", NOW)
    cases = [
        (state, NOW),
        (state, NOW + TTL + 1),
        (state, NOW - oidc_state.CLOCK_SKEW - 1),
        (other, NOW),
        (_altered(state, 1, "²"), NOW),
        ("state-made-up", NOW),
        ("", NOW),
    ]
    for candidate, now in cases:
        assert oidc_state.genuine(SECRET, candidate, now, TTL) == (
            oidc_state.expected_nonce(SECRET, candidate, now, TTL) is not None
        )
    assert oidc_state.genuine(SECRET, state, NOW, TTL)
