"""Progress bars for the long loops outside training (feature extraction,
SVM fits, invariance measurements), with MMEngine's ``ProgressBar``.

A bar is shown only where someone can watch it:

- on rank 0 of a distributed run (the other ranks stay quiet);
- when standard error is a terminal (not in a log file or a pipe);
- when the environment variable ``CI`` is unset (or ``0``/``false``), as
  CI services set it.

``PIRL_PROGRESS=0`` turns the bars off everywhere and ``PIRL_PROGRESS=1``
turns them on even outside a terminal (still on rank 0 only). Bars go to
standard error, so results printed on standard output stay clean. They
never change what the loops compute.
"""
import os
import sys
from typing import Iterable, Iterator, Optional, TypeVar

T = TypeVar('T')

_FALSE = ('', '0', 'false', 'no', 'off')


def progress_enabled(stream=None) -> bool:
    """Whether a progress bar should be shown (see the module docstring).

    Args:
        stream: where the bar would go. Defaults to ``sys.stderr``.
    """
    from mmengine.dist import get_rank
    if get_rank() != 0:
        return False
    forced = os.environ.get('PIRL_PROGRESS')
    if forced is not None and forced.strip() != '':
        return forced.strip().lower() not in _FALSE
    if os.environ.get('CI', '').strip().lower() not in _FALSE:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False


class Progress:
    """A progress bar counted in tasks (images, classes, ...), or nothing
    when :func:`progress_enabled` says no.

    Args:
        total (int): number of tasks.
        desc (str): what is being done, printed on the line above the bar.
        enabled (bool, optional): force on/off; defaults to
            :func:`progress_enabled`.

    Example:
        >>> with Progress(len(imgs), 'kNN features') as bar:
        ...     for batch in batches:
        ...         ...
        ...         bar.update(len(batch))
    """

    def __init__(self,
                 total: int,
                 desc: str = '',
                 enabled: Optional[bool] = None) -> None:
        self.file = sys.stderr
        if enabled is None:
            enabled = progress_enabled(self.file)
        self.bar = None
        if enabled and total > 0:
            from mmengine.utils import ProgressBar
            if desc:
                self.file.write(f'{desc}\n')
            self.bar = ProgressBar(total, file=self.file)

    def update(self, num: int = 1) -> None:
        """Count ``num`` more tasks as done."""
        if self.bar is not None and num > 0:
            self.bar.update(num)

    def close(self) -> None:
        """End the bar's line."""
        if self.bar is not None:
            self.file.write('\n')
            self.file.flush()
            self.bar = None

    def __enter__(self) -> 'Progress':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(iterable: Iterable[T],
          total: Optional[int] = None,
          desc: str = '',
          enabled: Optional[bool] = None) -> Iterator[T]:
    """Yield the items of ``iterable``, counting one task per item.

    Args:
        iterable: the items.
        total (int, optional): their number; defaults to ``len(iterable)``.
        desc (str): see :class:`Progress`.
        enabled (bool, optional): see :class:`Progress`.
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = 0
    with Progress(total, desc, enabled) as bar:
        for item in iterable:
            yield item
            bar.update(1)
