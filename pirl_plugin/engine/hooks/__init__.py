from .memory_bank_hook import MemoryBankHook
from .rng_state_hook import RNGStateHook

__all__ = ['MemoryBankHook', 'RNGStateHook']
