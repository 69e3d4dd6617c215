"""What the command-line tests share: `python -m gridcore` in this process, or as a program.

Most tests call `gridcore.cli.main` in this process (`run_cli`): the same code as the program
without half a second of start-up. A few smoke tests run the real program (`run_program`),
so that `python -m gridcore` itself, its exit status included, is still tested.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

from gridcore.cli import main
from gridcore.config import PROJECT_ROOT, get_settings

SECRET = "test-secret-for-kiosk-links"


@dataclass
class Run:
    code: int
    out: str
    err: str


def _environment(url: str, env: dict[str, str]) -> dict[str, str]:
    """DATABASE_URL=`url`, a fixed kiosk secret and English messages, then `env`."""
    return {
        "DATABASE_URL": url,
        "GRIDCORE_SECRET_KEY": SECRET,
        "GRIDCORE_LANGUAGE": "en",
        **env,
    }


def run_cli(*args: str, url: str, **env: str) -> Run:
    """`python -m gridcore ARGS` called in this process: its exit status, stdout and stderr.

    As the program would run it: no terminal on standard input, no GRIDCORE_DEBUG, and a
    SystemExit (argparse, or `import` with problems) becomes the exit status.
    """
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _environment(url, env).items():
            patch.setenv(name, value)
        if "GRIDCORE_DEBUG" not in env:
            patch.delenv("GRIDCORE_DEBUG", raising=False)
        patch.setattr(sys, "stdin", io.StringIO())
        get_settings.cache_clear()
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main(list(args))
                except SystemExit as exit_:
                    if exit_.code is None or isinstance(exit_.code, int):
                        code = exit_.code or 0
                    else:  # as Python does with a message: print it, status 1
                        print(exit_.code, file=sys.stderr)
                        code = 1
        finally:
            get_settings.cache_clear()
    return Run(code, out.getvalue(), err.getvalue())


def run_program(*args: str, url: str, **env: str) -> Run:
    """`python -m gridcore ARGS` as a user runs it, in a subprocess."""
    environment = {**os.environ, **_environment(url, env)}
    if "GRIDCORE_DEBUG" not in env:
        environment.pop("GRIDCORE_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "gridcore", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def failed_cleanly(run: Run, *words: str) -> None:
    """Exit status 2 and one plain line on stderr that says what went wrong."""
    assert run.code == 2, run
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0], (word, lines[0])
