"""Security monitoring: rules over the audit stream that raise security alerts.

A job reads each chain's new events past a stored cursor (``monitor.scan``), runs every rule
(``rules``) on each event, and raises what they find (``raising``): an alert row and its own
audit event in one transaction with the cursor, then email and a log line once it commits.
"""
