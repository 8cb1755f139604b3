"""The exercise notebooks: built from their sources, the instructor version passes every check, the student
version fails every check until solved, and the committed notebooks match their sources.

The cells run in this process (one namespace per notebook), not in a Jupyter kernel: the exercises need no
training and the whole file stays within seconds of CPU."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_exercises", ROOT / "scripts" / "build_exercises.py")
build_exercises = importlib.util.module_from_spec(spec)
sys.modules["build_exercises"] = build_exercises
spec.loader.exec_module(build_exercises)

SOURCES = build_exercises.sources()


def run_cells(nb) -> list[tuple[object, BaseException | None]]:
    """Execute the code cells in order in one fresh namespace; (cell, exception or None) per code cell."""
    namespace: dict = {"__name__": "__main__"}
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"<{cell['id']}>", "exec"), namespace)
            out.append((cell, None))
        except Exception as error:  # noqa: BLE001 - every failure of a cell is the result here
            out.append((cell, error))
    return out


def is_check(cell) -> bool:
    return "check" in cell.metadata.get("tags", [])


def test_every_notebook_has_two_to_four_checked_tasks_and_fourteen_in_all():
    counts = {}
    for source in SOURCES:
        nb = build_exercises.notebook(source, "instructor")
        counts[source.stem] = sum(is_check(c) for c in nb.cells)
    assert set(counts) >= {"01_faces_and_occlusions", "02_evaluation", "10_rla", "20_fsg_gan", "30_oa_gan",
                           "40_from", "50_id_gan"}
    assert all(2 <= n <= 4 for n in counts.values()), counts
    assert sum(counts.values()) >= 14, counts


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_instructor_version_passes_every_check(source, capsys):
    results = run_cells(build_exercises.notebook(source, "instructor"))
    failed = [(c["id"], repr(e)) for c, e in results if e is not None]
    assert not failed, failed
    assert capsys.readouterr().out.count("ok: ") >= sum(is_check(c) for c, _ in results)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_version_fails_every_check_until_solved(source):
    nb = build_exercises.notebook(source, "student")
    assert "# BEGIN SOLUTION" not in "".join(c.source for c in nb.cells)
    for cell, error in run_cells(nb):
        if is_check(cell):
            assert error is not None, f"check cell {cell['id']} passes with the solutions removed"
        elif build_exercises.UNSOLVED in cell.source:
            assert isinstance(error, NotImplementedError)
        else:
            assert error is None, f"setup cell {cell['id']} fails: {error!r}"


def test_student_version_keeps_everything_but_the_solutions():
    text = "# a\n# BEGIN SOLUTION\nx = 1\n# END SOLUTION\ncheck(x)\n    # BEGIN SOLUTION\n    y = 2\n    # END SOLUTION\n"
    student = build_exercises.strip_solutions(text, "student")
    assert "x = 1" not in student and "y = 2" not in student and "check(x)" in student
    assert "    raise NotImplementedError" in student
    assert build_exercises.strip_solutions(text, "instructor") == "# a\nx = 1\ncheck(x)\n    y = 2\n"
    with pytest.raises(ValueError, match="unbalanced"):
        build_exercises.strip_solutions("# BEGIN SOLUTION\nx = 1\n", "student")


def test_committed_notebooks_match_their_sources():
    assert not build_exercises.stale(), "run: python scripts/build_exercises.py"


def test_check_passes_a_right_answer_and_names_what_is_wrong_otherwise(capsys):
    import numpy as np

    from occface.notebook import check

    check("area", np.array([0.5, 0.25]), np.array([0.5, 0.25]))
    assert "ok: area" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="no answer yet"):
        check("area", None, np.array([0.5]))
    with pytest.raises(AssertionError, match=r"shape \(3,\).*\(2,\)"):
        check("area", np.zeros(3), np.zeros(2))
    with pytest.raises(AssertionError, match="differs from the library's by up to 0.1"):
        check("EER", 0.3, 0.2, atol=1e-3)
