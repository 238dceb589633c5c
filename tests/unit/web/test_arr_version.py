import pytest

from showkeeper.web.arr.system import api_version


@pytest.mark.parametrize(
    ("own", "shown"),
    [
        ("0.1.0", "3.0.1.0"),
        ("1.2", "3.1.2.0"),
        ("2.0.0rc1", "3.2.0.0"),
        ("1.4.2-dev+g1234", "3.1.4.2"),
        ("weird", "3.0.0.0"),
    ],
)
def test_clients_see_a_v3_version_of_numbers(own: str, shown: str) -> None:
    assert api_version(own) == shown
    assert all(part.isdigit() for part in api_version(own).split("."))
