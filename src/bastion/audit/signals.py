"""What the audit log tells the layers above it (they may not be imported from here).

``event_appended`` is sent inside the transaction of every append, with ``action`` (a registered
name) and ``chain`` (an id). Receivers that count must wait for the commit (an append rolled back
with its change never happened).
"""

from django.dispatch import Signal

event_appended = Signal()
