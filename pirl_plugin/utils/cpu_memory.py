"""Keep freed CPU memory in the process for reuse (glibc's ``mallopt``).

:func:`keep_freed_memory` turns off glibc's mmap threshold and trimming,
so the large tensors a CPU training step frees are reused by the next step
instead of being returned to the system and faulted in again.
:class:`~pirl_plugin.engine.PIRLRunner` calls it on machines without CUDA;
``PIRL_KEEP_FREED_MEMORY=0`` turns it off. The process then keeps its peak
heap, as a caching allocator does. Measurements and the reasons are in
``docs/troubleshooting.md`` (memory on CPU).
"""
import ctypes
import ctypes.util
import os

# glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4

#: set to 0 to leave glibc's allocator as it is
ENV_SWITCH = 'PIRL_KEEP_FREED_MEMORY'


def keep_freed_memory() -> bool:
    """Serve every allocation from the heap (no ``mmap``) and never trim
    it, so freed blocks are reused by the next iteration instead of being
    returned to the system and faulted in again.

    Does nothing when ``PIRL_KEEP_FREED_MEMORY=0`` or when the C library
    is not glibc.

    Returns:
        bool: whether glibc accepted both settings.
    """
    if os.environ.get(ENV_SWITCH, '1') == '0':
        return False
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # the largest threshold an int can give: never trim the heap's top
    trim = mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
    no_mmap = mallopt(_M_MMAP_MAX, 0)
    return bool(trim) and bool(no_mmap)
