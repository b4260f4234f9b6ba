"""What privacy tells the apps above it (they may not be imported from here).

``erasing_person`` is sent during an erasure, inside its transaction for the person's platform rows,
with ``user`` (the account, not anonymised yet) and ``addresses`` (the email addresses to forget).
Each receiver erases its own copies of the person and returns ``[(what, count), …]`` for the
erasure's answer.
"""

from django.dispatch import Signal

erasing_person = Signal()
