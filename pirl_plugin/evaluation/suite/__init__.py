"""The paper's transfer evaluation of one checkpoint, as run by
``tools/eval_suite.py``: the suite file (:mod:`.spec`), the backbone's
shape applied to the task configs (:mod:`.arch`), the commands
(:mod:`.commands`), resumable runs (:mod:`.runner`), the figures read from
each task's output (:mod:`.metrics`) and the report (:mod:`.report`)."""
from .arch import ResNetArch, arch_from_checkpoint, resolve_arch
from .commands import Launch
from .evaluate import run_suite
from .metrics import MetricError, read_json_metrics, read_scalars_metrics
from .spec import Metric, Suite, SuiteError, Task, load_suite

__all__ = [
    'Launch', 'Metric', 'MetricError', 'ResNetArch', 'Suite', 'SuiteError',
    'Task', 'arch_from_checkpoint', 'load_suite', 'read_json_metrics',
    'read_scalars_metrics', 'resolve_arch', 'run_suite'
]
