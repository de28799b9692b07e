"""Absolute addresses for emails, share links and QR codes, built on the configured SITE_URL."""

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    """The public address of a route, e.g. for a link in an email or printed on a poster.

    Built from SITE_URL rather than the request's Host header, which a client can choose."""
    return current_app.config["SITE_URL"] + url_for(endpoint, **values)


def url_if_exists(endpoint: str, **values) -> str | None:
    """A route's path if that part of the site exists yet, else None (parts land separately)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)
