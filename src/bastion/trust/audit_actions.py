"""The audit actions of the trust app (platform chain)."""

from bastion.audit.registry import action

CHECKS_RUN = action("trust.checks.run",
                    "The trust checks ran against the deployment: one event per run with each check's result "
                    "and the SHA-256 of its evidence, and the run's signature by the platform key")
CONTROL_NOTE_SET = action("trust.control.noted", "Platform staff set the operator's note shown next to a control")
DOCUMENT_UPLOADED = action("trust.document.uploaded",
                           "Security staff uploaded a document released under NDA (title, kind, approval, link "
                           "lifetime, SHA-256 of the file)")
DOCUMENT_WITHDRAWN = action("trust.document.withdrawn",
                            "Security staff withdrew an NDA document: no new request, no further download")
DOCUMENT_NDA_ACCEPTED = action("trust.document.nda_accepted",
                               "A named person accepted the click-through NDA and asked for a document")
DOCUMENT_APPROVED = action("trust.document.approved",
                           "A request for an NDA document was approved (automatically or by security staff) "
                           "and a link valid until its expiry emailed to the person")
DOCUMENT_DENIED = action("trust.document.denied", "Security staff denied a request for an NDA document")
DOCUMENT_DOWNLOADED = action("trust.document.downloaded", "A named person downloaded an NDA document by their link")
DOCUMENT_LINK_REFUSED = action("trust.document.link_refused",
                               "A released link was used after its expiry, or after its document was withdrawn: "
                               "nothing was downloaded")
