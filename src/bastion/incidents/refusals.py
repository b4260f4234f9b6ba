"""The one refusal of the incidents app: a step its current state does not allow (a phase skipped, a
notice sent twice, a report resolved before it was assessed). The API answers it 409."""


class NotAllowed(Exception):
    """A step that the incident's, notice's or report's current state does not allow."""
