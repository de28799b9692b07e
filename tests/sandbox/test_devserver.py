"""`make run`'s ports: the sandbox and mail catcher move with PORT, so two copies fit."""

import pytest

from sandbox.devserver import helper_ports


def test_the_default_port_keeps_the_usual_sandbox_and_mail_ports():
    assert helper_ports(5000, {}) == {"STRIPE_SANDBOX_PORT": 12111, "MAIL_PORT": 1025}


def test_a_second_copy_on_another_port_takes_other_helper_ports():
    first, second = helper_ports(5000, {}), helper_ports(5300, {})
    assert second == {"STRIPE_SANDBOX_PORT": 12411, "MAIL_PORT": 1325}
    assert not set(first.values()) & set(second.values())


def test_ports_set_in_the_environment_win():
    environ = {"STRIPE_SANDBOX_PORT": "20000", "MAIL_PORT": ""}
    assert helper_ports(5300, environ) == {"STRIPE_SANDBOX_PORT": 20000, "MAIL_PORT": 1325}


@pytest.mark.parametrize("port", [3000, 60000])
def test_a_port_whose_helpers_would_fall_outside_the_range_says_what_to_set(port):
    with pytest.raises(SystemExit, match="MAIL_PORT|STRIPE_SANDBOX_PORT"):
        helper_ports(port, {})
