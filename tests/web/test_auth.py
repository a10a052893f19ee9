"""Token protection of the usage API and page."""

from __future__ import annotations

from web import auth


def test_without_a_token_everything_is_allowed() -> None:
    assert auth.allowed({}, {}, None)
    assert auth.allowed({}, {}, "")


def test_bearer_token_must_match() -> None:
    assert auth.allowed({"Authorization": "Bearer s3cret"}, {}, "s3cret")
    assert not auth.allowed({"Authorization": "Bearer wrong"}, {}, "s3cret")
    assert not auth.allowed({"Authorization": "Basic s3cret"}, {}, "s3cret")
    assert not auth.allowed({}, {}, "s3cret")


def test_login_cookie_holds_an_hmac_not_the_token() -> None:
    value = auth.cookie_value("s3cret")
    assert "s3cret" not in value
    assert auth.allowed({}, {auth.COOKIE: value}, "s3cret")
    assert not auth.allowed({}, {auth.COOKIE: "s3cret"}, "s3cret")
    assert not auth.allowed({}, {auth.COOKIE: auth.cookie_value("other")}, "s3cret")
    header = auth.set_cookie("s3cret")
    assert header.startswith(f"{auth.COOKIE}={value};")
    assert "HttpOnly" in header
    assert "SameSite=Strict" in header


def test_login_form_shows_an_escaped_error_only_after_a_failure() -> None:
    template = "<p>{{error}}</p>"
    assert auth.login_form(template, failed=False) == "<p></p>"
    assert "not valid" in auth.login_form(template, failed=True)
