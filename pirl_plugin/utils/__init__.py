from .compat import apply_runtime_fixes, mmengine_checkpoint_safe_globals
from .permutations import (generate_permutations, min_hamming_distance,
                           resolve_permutations)

__all__ = [
    'apply_runtime_fixes', 'mmengine_checkpoint_safe_globals',
    'generate_permutations', 'min_hamming_distance', 'resolve_permutations'
]
