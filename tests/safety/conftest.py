"""The cast of the safety tests: organisers, an instructor and participants on the default list."""

import pytest

from tests.safety.helpers import Cast, make_cast


@pytest.fixture
def cast(make) -> Cast:
    """Two organisers, an instructor, and two participants on the default checklist."""
    return make_cast(make)
