"""``bastion manage status_check``: run the status page's probes now (what the minute job does) and
show each component's state. Exit 0 when every component is operational, 1 otherwise."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from bastion.operations import history, summary


class Command(BaseCommand):
    help = "Probe every status-page component now and record the result"

    def handle(self, *args, **options):
        run = history.run()
        summary.forget()
        for result in run.results:
            state = run.states[result.component]
            self.stdout.write(f"{result.component:<20} {state:<18} {result.seconds * 1000:7.1f} ms  {result.detail}")
        if any(state != "operational" for state in run.states.values()):
            raise SystemExit(1)
