"""Every email the site sends: the outbox, composition, SMTP delivery, the worker."""

from .service import queue_email

__all__ = ["queue_email"]
