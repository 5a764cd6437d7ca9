"""The recorded package versions (``evidence.provenance``) are the installed ones: read from the
``dist-info`` directory names (fast), they must equal what ``importlib.metadata`` reports, and a
package without such a directory is still found through the metadata."""

from __future__ import annotations

from importlib import metadata

import pytest

from evidence import provenance


def _reference() -> dict[str, str]:
    out = {}
    for name in provenance.RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@pytest.fixture
def fresh():
    provenance._versions.cache_clear()
    yield
    provenance._versions.cache_clear()


def test_versions_equal_the_metadata(fresh):
    got = provenance.package_versions()
    assert list(got) == list(provenance.RECORDED_PACKAGES)
    assert got == _reference()
    assert got["numpy"] != "not installed" and got["evidence"] != "not installed"


def test_a_package_without_a_dist_info_directory_is_asked_of_the_metadata(fresh, monkeypatch):
    monkeypatch.setattr(provenance, "_installed", dict)
    assert provenance.package_versions() == _reference()


def test_names_are_compared_as_wheels_spell_them():
    assert provenance._normal("SQLAlchemy") == "sqlalchemy" and provenance._normal("typing-extensions") == "typing_extensions"
    assert provenance._normal("zope.interface") == "zope_interface"
