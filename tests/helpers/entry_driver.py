"""Run a training script once per case in this one process (the imports
are paid once) and report how each run ended, as JSON.

    python entry_driver.py SCRIPT PROG CASES.json RESULTS.json

SCRIPT is run with ``runpy`` as ``__main__`` with ``sys.argv = [PROG] +
case['argv']``, for each case of CASES.json (a list of dicts with
``argv``). RESULTS.json gets, per case: ``status`` (the exit status the
process would have had), ``message`` (a ``SystemExit``'s text), ``escaped``
(the traceback of any other exception, else None), ``stdout`` and
``stderr``.
"""
import contextlib
import io
import json
import runpy
import sys
import traceback


def _reset_mmengine() -> None:
    """Forget the loggers, message hubs and visualizers of the previous
    case (MMEngine keeps them by name, and two runs in one second share a
    name)."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.visualization import Visualizer
    for cls in (MMLogger, MessageHub, Visualizer):
        for instance in cls._instance_dict.values():
            for handler in getattr(instance, 'handlers', []):
                handler.close()
        cls._instance_dict.clear()


def run_case(script: str, prog: str, argv: list) -> dict:
    """Run ``script`` once; return how it ended."""
    _reset_mmengine()
    out, err = io.StringIO(), io.StringIO()
    status, message, escaped = 0, None, None
    sys.argv = [prog] + list(argv)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(script, run_name='__main__')
        except SystemExit as exc:
            if isinstance(exc.code, str):
                status, message = 1, exc.code
            else:
                status = exc.code or 0
        except BaseException:  # noqa: B902  what the harness looks for
            status, escaped = 1, traceback.format_exc()
    return dict(
        status=status,
        message=message,
        escaped=escaped,
        stdout=out.getvalue(),
        stderr=err.getvalue())


def main() -> None:
    script, prog, cases_path, results_path = sys.argv[1:5]
    with open(cases_path) as f:
        cases = json.load(f)
    results = [run_case(script, prog, case['argv']) for case in cases]
    with open(results_path, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
