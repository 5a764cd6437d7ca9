"""The CI guard itself: a skip must become a failure under CI=true."""

import subprocess
import sys
import textwrap


def test_skip_fails_under_ci(tmp_path):
    (tmp_path / "conftest.py").write_text(
        (__import__("pathlib").Path(__file__).parent / "conftest.py").read_text()
    )
    (tmp_path / "test_x.py").write_text(textwrap.dedent("""
        import pytest
        def test_skipped():
            pytest.skip("no chromium")
    """))
    env = {"CI": "true", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 1, run.stdout
    assert "skipped under CI=true" in run.stdout
    env["CI"] = "false"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout
