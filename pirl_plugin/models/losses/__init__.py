from .nce_losses import infonce_loss, nce_loss

__all__ = ['nce_loss', 'infonce_loss']
