"""The app's lock, by its older name: the model is fieldapp/ui/models/lock.py, the screen fieldapp/ui/views/lock.py."""

from fieldapp.ui.models.lock import LOCK_AFTER_S, AppLock

__all__ = ["LOCK_AFTER_S", "AppLock"]
