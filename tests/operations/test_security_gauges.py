"""The audit and key gauges fold every organisation into counts and oldest times: chains failed or
never verified, the oldest last passed verification, the oldest data key in use."""

from __future__ import annotations

import time

from bastion.audit.context import SYSTEM, acting_as
from bastion.operations import security_gauges
from bastion.tenancy import audit_verification
from tests.operations.scrape import TOKEN, samples, scrape, value


def test_counts_and_oldest_times_over_every_organisation(world, client, settings):
    settings.BASTION_METRICS_TOKEN = TOKEN
    before = security_gauges.collect()
    # On PostgreSQL, chains other tests committed (and verified, or broke on purpose) are counted too.
    assert before.chains >= 3  # the platform's, acme's and globex's
    assert before.chains_never_verified >= 2  # acme's and globex's chains are new
    assert before.oldest_data_key is not None and time.time() - before.oldest_data_key < 600

    started = time.time()
    with acting_as(SYSTEM):
        assert audit_verification.verify(world.acme.slug).ok  # one organisation verified
    gauges = security_gauges.collect()
    assert gauges.chains_never_verified == before.chains_never_verified - 1 and gauges.chains_failed == 0
    with acting_as(SYSTEM):
        run = audit_verification.verify()  # then all of them
    assert not [r for r in run.broken if r.name.startswith("organisation acme") or r.name.startswith("organisation globex")]
    gauges = security_gauges.collect()
    assert gauges.chains_never_verified == 0 and gauges.chains_failed == len(run.broken)
    assert gauges.oldest_good_verification is not None and gauges.oldest_good_verification <= time.time()
    if before.oldest_good_verification is None:  # nothing verified before this test: the oldest is today's
        assert started - 1 <= gauges.oldest_good_verification

    security_gauges.publish(gauges, now=time.time())
    text = scrape(client)
    assert value(text, "bastion_audit_chains") == gauges.chains
    assert value(text, "bastion_audit_chains_never_verified") == 0
    assert value(text, "bastion_audit_verification_oldest_success_timestamp_seconds") == gauges.oldest_good_verification
    assert value(text, "bastion_crypto_data_key_oldest_created_timestamp_seconds") == gauges.oldest_data_key
    # The gauges are counts and times over every organisation: no label at all (the KMS's unwrap counter,
    # labelled by provider, is another metric).
    labelled = [(sample.name, sample.labels) for sample in samples(text)
                if sample.name.startswith(("bastion_audit_chains", "bastion_audit_verification_oldest",
                                           "bastion_crypto_data_key_oldest")) and sample.labels]
    assert labelled == []
