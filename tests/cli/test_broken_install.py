"""A Motorchart installed without its resources folder says so in one line and writes nothing
(a wheel built before installer/wheel_resources.py had none: ``pip install .`` gave a
traceback and an empty chart)."""

from __future__ import annotations

import pytest

import desktop.resources as resources
from desktop.cli import main


@pytest.fixture
def no_resources(monkeypatch, tmp_path):
    """resources_dir() as it runs from a package installed without resources/ beside it."""
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "site" / "desktop" / "resources.py"))
    with pytest.raises(resources.ResourcesMissing):
        resources.resources_dir()


def test_a_command_says_the_install_is_incomplete_and_writes_no_chart(no_resources, tmp_path, capsys):
    chart = tmp_path / "clinic.sqlite"
    assert main(["demo", "--db", str(chart), "--patients", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("motorchart: this Motorchart installation is incomplete")
    assert "install Motorchart again" in err[0] and "Traceback" not in err[0]
    assert not chart.exists() and not list(tmp_path.glob("clinic*"))


def test_with_its_resources_the_same_command_runs(tmp_path, capsys):
    chart = tmp_path / "clinic.sqlite"
    assert main(["demo", "--db", str(chart), "--patients", "3"]) == 0
    assert chart.exists()
