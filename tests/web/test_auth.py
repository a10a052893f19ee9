"""Token protection of the usage API, and the sign-in form."""

from __future__ import annotations

from web import auth


def test_without_a_token_nothing_is_allowed() -> None:
    assert not auth.allowed({}, None)
    assert not auth.allowed({"Authorization": "Bearer "}, "")


def test_bearer_token_must_match() -> None:
    assert auth.allowed({"Authorization": "Bearer s3cret"}, "s3cret")
    assert not auth.allowed({"Authorization": "Bearer wrong"}, "s3cret")
    assert not auth.allowed({"Authorization": "Basic s3cret"}, "s3cret")
    assert not auth.allowed({}, "s3cret")


def test_login_form_shows_an_escaped_error_only_after_a_failure() -> None:
    template = "<p>{{error}}</p>"
    assert auth.login_form(template, failed=False) == "<p></p>"
    assert "not valid" in auth.login_form(template, failed=True)
