"""Issue 17, point 7 for the PDF path: `motorchart report` (and Export PDF in the window, which
uses the same write_pdf) never writes through a symlink planted beside the target."""

from __future__ import annotations

import pytest

from desktop.cli import main
from desktop.reports.from_chart import write_pdf
from desktop.store import ChartStore
from tests.reports.pdf_helpers import sample_case, text


@pytest.fixture
def chart(tmp_path):
    path = tmp_path / "chart.sqlite"
    store = ChartStore.open(path, user="dr.test")
    store.import_case(sample_case("Zofia", "Nowak"))
    store.close(backup=False)
    return path


def test_a_symlink_planted_as_the_old_part_name_is_never_written_through(chart, tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "r.pdf.part").symlink_to(victim)
    out = tmp_path / "r.pdf"
    assert main(["report", "--db", str(chart), "--patient", "MRN-0042", "-o", str(out)]) == 0
    assert victim.read_text() == "precious"
    assert "Zofia Nowak" in text(out.read_bytes())
    assert (tmp_path / "r.pdf.part").is_symlink()  # left alone: never opened, never removed
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".r.pdf.")] == []  # no temporary left


def test_write_pdf_replaces_a_symlinked_target_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "r.pdf"
    out.symlink_to(victim)
    write_pdf(out, b"%PDF-1.4 tiny")
    assert victim.read_text() == "precious"
    assert not out.is_symlink() and out.read_bytes() == b"%PDF-1.4 tiny"
