from .memory_bank import MemoryBank

__all__ = ['MemoryBank']
