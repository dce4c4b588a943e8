"""Keep freed CPU memory in the process for reuse (glibc's ``mallopt``).

Training on a CPU allocates and frees the same large activation tensors
every iteration. glibc serves each allocation above its mmap threshold
(at most 32 MiB) with a fresh ``mmap`` and returns it to the system on
``free``, so every iteration faults in, and the kernel zeroes, gigabytes
of new pages. On 2 cores, ResNet-50 at 224 px with 32 images, one PIRL
step took 3.0 million minor page faults and 6-8 s of system time out of
13-15 s, MMPretrain's MoCo v2 1.6-1.9 million and 3 s out of 8
(``tools/benchmarks/vs_mocov2.py``; docs/benchmarks). PyTorch has no
caching allocator for CPU tensors to avoid this, and glibc's environment
variables (``MALLOC_MMAP_MAX_``) only act when set before the process
starts, which MMPretrain's ``tools/train.py`` and ``mim`` do not do; so
:class:`~pirl_plugin.engine.PIRLRunner` calls :func:`keep_freed_memory`
on machines without CUDA (CUDA's caching allocator already reuses GPU
memory, and data-loader workers allocate little).

The cost: the process keeps its peak heap instead of returning freed
memory to the system, as a caching allocator does.
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
