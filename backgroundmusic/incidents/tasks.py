"""Jobs of the breach register: thin, take ids, safe to run again after a kill."""

from django_tasks import task


@task()
def send_incident_letters(incident_id: int) -> dict[str, int]:
    """Sends one batch of the incident's queued letters; returns counts by status only."""
    from backgroundmusic.incidents.letters import letters_send_batch

    return letters_send_batch(incident_id=incident_id)


@task()
def resume_incident_letters() -> int:
    """Every ten minutes: enqueues batches for letters a killed or failed batch left queued."""
    from backgroundmusic.incidents.letters import letters_resume

    return letters_resume()


@task()
def send_incident_digest() -> int:
    """E-mails each incident manager the clocks overdue or running; returns how many e-mails
    went out. Safe to re-run: a manager already sent today's digest is skipped (a mark in the
    cache, set after sending, so a kill between the two sends the digest again rather than
    never)."""
    from backgroundmusic.incidents.digest import incident_digest_send

    return incident_digest_send()
