"""The audit actions of streaming to a customer's SIEM."""

from bastion.audit.registry import action

SIEM_DESTINATION_CREATED = action("siem.destination.created", "A destination for the audit and read-access events was added")
SIEM_DESTINATION_UPDATED = action("siem.destination.updated", "A SIEM destination was changed")
SIEM_DESTINATION_DELETED = action("siem.destination.deleted", "A SIEM destination was removed")
SIEM_EVENTS_DEAD_LETTERED = action(
    "siem.events.dead_lettered", "Events a SIEM destination kept refusing were set aside in its dead-letter list")
SIEM_DEAD_LETTERS_RETRIED = action(
    "siem.dead_letters.retried", "An admin re-queued a SIEM destination's dead letters to be sent again")
