"""Every route in the URL map, every parameter it could read, odd numbers in each: no 500.

`str.isdigit()` says yes to '²', '①' and '٣', and `int()` refuses the first two, so a
number read from a request with that pair answered a server error. This walks each route
(with the example URLs of tests/test_access.py for its path parameters) as an organiser, a
participant and a visitor, and sends each GET query parameter and each POST form field the
app's forms and views know of: Unicode digits, signs, spaces, NUL, huge values, nothing."""

import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

import app as app_package
from tests.test_access import TABLE
from tests.world import build_world, log_in_as

# Names views and services read that no form declares, and the ones people tend to try.
COMMON = (
    "page",
    "older_than",
    "newer_than",
    "before",
    "participant",
    "q",
    "amount_preset",
    "other_amount",
    "status",
    "filter",
)
ODD = (
    "²",
    "①",
    "٣",
    "#²",
    "-1",
    "+1",
    " 1 ",
    "1\x00",
    "\x00",
    str(10**30),
    "",
    "0",
    "1.5",
)
ROLES = ("organiser", "participant", "visitor")
_READS = re.compile(r"""(?:args|form|view)\.get\(\s*["']([\w-]+)["']""")
_NAME = re.compile(r'<(?:input|select|textarea|button)\b[^>]*?\bname="([^"]+)"')


def _form_classes(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _declared_names() -> set[str]:
    """Every field name the app's forms declare, with their default prefixes."""
    names: set[str] = set()
    for form in _form_classes():
        prefix = getattr(form, "default_prefix", "")
        for attr in dir(form):
            if isinstance(getattr(form, attr, None), UnboundField):
                names.add(f"{prefix}-{attr}" if prefix else attr)
    return names


def _read_names() -> set[str]:
    """Every name the app's code reads from a query string or form by hand."""
    source = Path(app_package.__file__).parent
    return {name for path in source.rglob("*.py") for name in _READS.findall(path.read_text())}


# Answers given before a view reads anything: a log-in, a refusal, an old address's redirect.
_NEVER_READ = ("302 /auth/login", "403", "301 ", "308 ")


def _routes(world, role: str) -> list[tuple[str, str]]:
    """(method, URL) for every route `role` reaches: the access table's examples, with the
    world's values, leaving out those it refuses (or redirects) before reading a parameter."""
    values = world.values()
    seen, routes = set(), []
    for tries in TABLE.values():
        for attempt in tries:
            if isinstance(attempt.data, bytes):
                continue  # the webhook: Stripe's signed JSON, fuzzed in test_bad_input.py
            if attempt.expect[role].startswith(_NEVER_READ):
                continue
            route = (attempt.method, attempt.url.format(**values))
            if route not in seen:
                seen.add(route)
                routes.append(route)
    # Log out everywhere reads no parameter and ends the session as log-out does: one of the
    # two is enough, and it goes last, or the session (and its CSRF token) is gone for the
    # routes after it.
    routes = [route for route in routes if route != ("POST", "/auth/account/logout-everywhere")]
    return sorted(routes, key=lambda route: route == ("POST", "/auth/logout"))


def _token(client) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/privacy").text).group(1)


def _rendered_names(client, routes) -> set[str]:
    """Field names as the pages render them (prefixes with ids: thanks-7-reply, item-3-...)."""
    names = set()
    for method, url in routes:
        if method == "GET":
            response = client.get(url)
            if response.mimetype == "text/html":
                names.update(_NAME.findall(response.text))
            response.close()
    return {name for name in names if not name.endswith("csrf_token")}


def _send_everywhere(client, token, routes, params) -> list[str]:
    failures = []
    for method, url in routes:
        try:
            if method == "GET":
                path, _, query = url.partition("?")
                response = client.get(path, query_string={**params, **parse_qs(query)})
            else:
                response = client.post(url, data=params, headers={"X-CSRFToken": token})
        except Exception as exc:  # TESTING propagates what would be a 500: name every route
            failures.append(f"{method} {url} raised {exc!r}")
            continue
        if response.status_code >= 500:
            failures.append(f"{method} {url} answered {response.status_code}")
        elif response.status_code == 400 and "<h1>Please try that again</h1>" in response.text:
            failures.append(f"{method} {url} refused the CSRF token: the walk never reached it")
        response.close()
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_no_parameter_gives_a_server_error(app, make, role):
    world = build_world(make)
    client = app.test_client()
    log_in_as(client, world, role)
    routes = _routes(world, role)
    # Destructive requests change the world as they go; that is fine, a 500 is never right.
    found = _declared_names() | _read_names() | _rendered_names(client, routes)
    names = sorted(found.union(COMMON))
    odd = st.sampled_from(ODD) | st.text(alphabet="0123456789²①٣ +-#.\x00", max_size=6)

    @settings(
        max_examples=2,  # and the explicit examples: the walk stays well under a minute
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(params=st.fixed_dictionaries(dict.fromkeys(names, odd)))
    @example(params={**dict.fromkeys(names, "²"), "q": "#²"})  # '#²': a donation's number
    @example(params=dict.fromkeys(names, str(10**30)))
    def walk(params):
        log_in_as(client, world, role)  # again: the last example ended at /auth/logout
        failures = _send_everywhere(client, _token(client), routes, params)
        assert not failures, "\n".join(failures)

    walk()
