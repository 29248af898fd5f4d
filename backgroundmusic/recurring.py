"""Every recurring job of the service, in one place (cron in UTC)."""

from backgroundmusic.core.schedule import RecurringJob

RECURRING_JOBS: list[RecurringJob] = [
    # Old schedule slots (core/tasks.py); finished job rows leave through retention
    RecurringJob(
        name="prune_schedule_slots",
        cron="17 3 * * *",
        task="backgroundmusic.core.tasks.prune_schedule_slots",
    ),
    # Retention (privacy/retention.py)
    RecurringJob(
        name="privacy_retention",
        cron="41 2 * * *",
        task="backgroundmusic.privacy.tasks.apply_retention",
    ),
    # 08:00 in Moscow: privacy officers get the requests overdue or due within 2 working days.
    RecurringJob(
        name="request_deadline_digest",
        cron="0 5 * * *",
        task="backgroundmusic.privacy.tasks.send_request_deadline_digest",
    ),
    # The same slot: incident managers get the incidents' clocks overdue or running
    # (incidents/digest.py; a letter of its own, decision 0035).
    RecurringJob(
        name="incident_clock_digest",
        cron="0 5 * * *",
        task="backgroundmusic.incidents.tasks.send_incident_digest",
    ),
    # Letters about an incident that a killed batch left queued (incidents/letters.py)
    RecurringJob(
        name="resume_incident_letters",
        cron="*/10 * * * *",
        task="backgroundmusic.incidents.tasks.resume_incident_letters",
    ),
    # Ingest watchdog (media/services.py)
    RecurringJob(
        name="fail_stuck_masters",
        cron="*/5 * * * *",
        task="backgroundmusic.media.tasks.fail_stuck_masters",
    ),
    # Analytics (analytics/tasks.py)
    RecurringJob(
        name="purge_visitor_salts",
        cron="7 * * * *",
        task="backgroundmusic.analytics.tasks.purge_visitor_salts",
    ),
    RecurringJob(
        name="aggregate_events",
        cron="23 1 * * *",
        task="backgroundmusic.analytics.tasks.aggregate_events",
    ),
    # Licence subscriptions whose paid month ended (licensing/agreements.py)
    RecurringJob(
        name="lapse_agreements",
        cron="11 * * * *",
        task="backgroundmusic.licensing.tasks.lapse_agreements",
    ),
    # Card payments whose notification never came (licensing/billing.py)
    RecurringJob(
        name="sync_pending_payments",
        cron="*/5 * * * *",
        task="backgroundmusic.licensing.tasks.sync_pending_payments",
    ),
    # Break glass (accounts/break_glass.py): a grant ends within a minute of its expiry
    RecurringJob(
        name="end_break_glass",
        cron="* * * * *",
        task="backgroundmusic.accounts.tasks.end_break_glass",
    ),
    # Newsletters (mailing/services.py): due campaigns start within a minute of their time
    RecurringJob(
        name="start_due_campaigns",
        cron="* * * * *",
        task="backgroundmusic.mailing.tasks.start_due_campaigns",
    ),
    # Letters to the service's addresses (inbox/readers.py): unsubscribes, requests, reports
    RecurringJob(
        name="read_inbox",
        cron="* * * * *",
        task="backgroundmusic.inbox.tasks.read_inbox",
    ),
]
