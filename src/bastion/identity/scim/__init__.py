"""SCIM 2.0 provisioning (RFC 7643, RFC 7644) at ``/scim/v2/``, one service per organisation.

An organisation's identity provider creates, updates and deactivates its users and groups here,
with the organisation's bearer token (``tokens``). Every change goes through the tenancy actions
and is audited with the actor type ``scim``; a deactivation takes effect at once (``users``).
Payloads are read and written with ``scim2-models`` (``resources``).
"""
