"""What tenancy tells the apps above it (they may not be imported from here).

``access_changed`` is sent inside the transaction of any change to what a user may do in an
organisation (a membership added, changed or removed; a custom role's permissions changed; the
organisation's MFA policy switched), with ``user_ids``: whatever a layer above cached about those
users' access is stale from this commit on.
"""

from django.dispatch import Signal

access_changed = Signal()
