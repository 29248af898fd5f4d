"""Jobs of the mailing app: thin, take ids, safe to run again after a kill."""

from django_tasks import task


@task()
def start_due_campaigns() -> dict[str, int]:
    """Every minute: starts due campaigns and resumes batches a killed worker left."""
    from backgroundmusic.mailing.services import campaigns_start_due

    return campaigns_start_due()


@task()
def send_campaign_batch(campaign_id: int) -> dict[str, int]:
    """Sends one batch of the campaign's queued messages; returns counts only."""
    from backgroundmusic.mailing.sending import batch_send

    outcome = batch_send(campaign_id=campaign_id)
    return {"sent": outcome.sent, "failed": outcome.failed, "cancelled": outcome.cancelled}


@task()
def send_campaign_test(campaign_id: int, user_id: int, language: str) -> bool:
    """Sends a newsletter editor the test message they asked for."""
    from backgroundmusic.mailing.sending import test_send

    return test_send(campaign_id=campaign_id, user_id=user_id, language=language)
