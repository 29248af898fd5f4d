from datetime import UTC, datetime

import pytest

from backgroundmusic.audit.models import AuditAction, AuditEvent
from backgroundmusic.audit.services import audit_record
from backgroundmusic.core import clock
from backgroundmusic.core.models import AppendOnlyError

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_row_holds_actor_action_target_changes_reason_and_time():
    with clock.frozen_at(T0):
        event = audit_record(
            actor=41,
            action=AuditAction.ROLE_REVOKED,
            target=("accounts.User", 7),
            before={"role": "support"},
            reason="  left the team ",
        )
    event.refresh_from_db()
    assert (
        event.at,
        event.actor_id,
        event.action,
        event.target_type,
        event.target_id,
        event.before,
        event.after,
        event.reason,
    ) == (T0, 41, "role.revoked", "accounts.User", "7", {"role": "support"}, {}, "left the team")


def test_the_system_acts_without_an_actor():
    event = audit_record(actor=None, action=AuditAction.ROLE_ASSIGNED)
    assert (event.actor_id, event.target_type, event.target_id) == (None, "", "")


def test_an_undeclared_action_is_refused_and_writes_nothing():
    with pytest.raises(ValueError, match=r"undeclared audit action 'role\.invented'"):
        audit_record(actor=None, action="role.invented")
    assert AuditEvent.objects.count() == 0


def test_rows_cannot_be_changed_or_deleted():
    event = audit_record(actor=3, action=AuditAction.STAFF_DENIED, after={"path": "/staff/"})
    event.actor_id = 4
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(actor_id=4)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert list(AuditEvent.objects.values_list("actor_id", "action")) == [(3, "staff.denied")]
