"""Jobs of the privacy app: thin, take ids, safe to run again after a kill."""

from django_tasks import task

from backgroundmusic.privacy import retention
from backgroundmusic.privacy.rights.erasure import erasure_run
from backgroundmusic.privacy.rights.export import export_build


@task()
def build_data_export(
    export_id: int, site_url: str = "", language: str = "", method: str = ""
) -> str:
    """Builds the person's archive and e-mails the link; returns the export's state."""
    export = export_build(export_id=export_id, site_url=site_url, language=language, method=method)
    return str(export.status) if export is not None else "gone"


@task()
def erase_account(job_id: int) -> str:
    """Runs (or finishes) one erasure job; returns its state."""
    job = erasure_run(job_id=job_id)
    return str(job.status) if job is not None else "gone"


@task()
def apply_retention() -> dict[str, int]:
    """The daily retention run; returns counts only, never values."""
    return retention.retention_run().as_counts()


# Daily digest of data-subject request deadlines (privacy/requests.py)


@task()
def send_request_deadline_digest() -> int:
    """E-mails each privacy officer the open requests that are overdue or due within two working
    days; returns how many e-mails went out. Safe to re-run: an officer already sent today's
    digest is skipped (a mark in the cache, set after sending, so a kill between the two sends
    the digest again rather than never)."""
    from backgroundmusic.privacy.requests import request_digest_send

    return request_digest_send()


@task()
def send_consent_confirmation(confirmation_id: int, site_url: str = "") -> str:
    """E-mails the link that confirms a consent asked for (privacy/optin.py); returns what
    happened. Safe to re-run: a link already sent is not sent again."""
    from backgroundmusic.privacy.optin import confirmation_send

    return confirmation_send(confirmation_id=confirmation_id, site_url=site_url)


@task()
def send_extension_notice(notice_id: int) -> str:
    """E-mails the requester that a deadline of their request was extended, why, and the new
    dates (privacy/requests.py); returns what happened. Safe to re-run: a notice sent is marked."""
    from backgroundmusic.privacy.requests import extension_notice_send

    return extension_notice_send(notice_id=notice_id)


@task()
def send_request_code(pending_id: int, sealed_code: str) -> str:
    """E-mails the one-time code of a request made on the public form (privacy/
    requests_public.py); returns what happened. The code travels sealed under the master key, as
    the row keeps only its hash; a code already sent, expired or spent is not sent."""
    from backgroundmusic.privacy.requests_public import request_code_send

    return request_code_send(pending_id=pending_id, sealed_code=sealed_code)
