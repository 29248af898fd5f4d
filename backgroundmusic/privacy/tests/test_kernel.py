"""The privacy kernel's models live in privacy/kernel/ but stay the privacy app's: same label,
same tables, same permission, so moving the code changed no database (decision 0015)."""

from django.contrib.auth.models import Group, Permission

from backgroundmusic.privacy.kernel.models import DataKey, StaffAccessLogEntry
from backgroundmusic.staffroles.roles import StaffRole


def test_kernel_models_keep_the_privacy_label_and_tables():
    # The data keys moved to the key store's own table (decision 0036).
    assert (DataKey._meta.label, DataKey._meta.db_table) == ("privacy.DataKey", "keystore_datakey")
    assert (StaffAccessLogEntry._meta.label, StaffAccessLogEntry._meta.db_table) == (
        "privacy.StaffAccessLogEntry",
        "privacy_staffaccesslogentry",
    )


def test_the_access_log_permission_hangs_on_the_kernel_model_and_role_groups_hold_it(db):
    permission = Permission.objects.get(
        content_type__app_label="privacy", codename="view_access_log"
    )
    assert permission.content_type.model_class() is StaffAccessLogEntry
    holders = set(Group.objects.filter(permissions=permission).values_list("name", flat=True))
    assert holders == {StaffRole.PRIVACY_OFFICER.value, StaffRole.ADMINISTRATOR.value}
