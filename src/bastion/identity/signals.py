"""What identity tells the layers above it (they may not be imported from here).

``lockout_started`` is sent when failed sign-ins lock an account or a client address, with
``locked``: the kinds that became locked (``"account"``, ``"ip"``). ``sign_in_refused`` is sent when
an attempt is refused unchecked because of such a lock. Neither carries who or where: receivers
count, the audit log keeps the details.
"""

from django.dispatch import Signal

lockout_started = Signal()
sign_in_refused = Signal()
