"""An MMEngine file backend that writes local files atomically.

MMEngine's ``save_checkpoint`` serialises the checkpoint and hands the bytes
to the file backend that ``get_file_backend(filename, backend_args)``
returns; its :class:`~mmengine.fileio.LocalBackend` opens the destination
with ``'wb'`` and writes into it, so a job killed while a checkpoint is
written (SIGTERM/SIGKILL from a scheduler, a full disk) leaves a truncated
``epoch_N.pth`` under the final name, which ``--resume`` then picks up.

:class:`AtomicLocalBackend` is registered as ``'atomic_local'``: selected
with ``backend_args=dict(backend='atomic_local')`` (the plugin's runner,
:class:`pirl_plugin.engine.PIRLRunner`, does so for every local
checkpoint), a file is written to ``<path>.tmp-<pid>``, flushed to disk and
renamed over the final name (``os.replace`` is atomic on POSIX), so a
checkpoint file is either complete or absent.
"""
import os
import os.path as osp
from pathlib import Path
from typing import Union

import mmengine
from mmengine.fileio import LocalBackend, register_backend

ATOMIC_BACKEND = 'atomic_local'


def _fsync_folder(folder: str) -> None:
    """Make a rename inside ``folder`` durable (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # e.g. file systems that do not sync folders
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(obj: bytes, filepath: Union[str, Path]) -> None:
    """Write ``obj`` to ``filepath`` so that the file is complete or absent.

    The bytes go to ``<filepath>.tmp-<pid>`` first, are flushed and synced
    to disk, and the temporary file is then renamed over ``filepath``. If
    anything interrupts the write (an exception, ``KeyboardInterrupt``, the
    plugin's ``TrainingInterrupted``), the temporary file is removed and an
    existing ``filepath`` is left as it was.

    Args:
        obj (bytes): what to write.
        filepath (str or Path): the destination (a local path).
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    mmengine.mkdir_or_exist(folder)
    tmp = f'{filepath}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:  # noqa: B036  incl. KeyboardInterrupt/SystemExit
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """:class:`~mmengine.fileio.LocalBackend` whose writes (``put``,
    ``put_text``) are atomic: see :func:`atomic_write_bytes`.

    For local paths only (every other operation is LocalBackend's); select
    it with ``backend_args=dict(backend='atomic_local')``, e.g. in a
    ``CheckpointHook``'s ``backend_args`` or a ``save_checkpoint`` call.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically.

        Args:
            obj (bytes): data to be written.
            filepath (str or Path): path to write the data to; its folder is
                created if needed.
        """
        atomic_write_bytes(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically.

        Args:
            obj (str): text to be written.
            filepath (str or Path): path to write the text to.
            encoding (str): the text's encoding. Defaults to 'utf-8'.
        """
        atomic_write_bytes(obj.encode(encoding), filepath)
