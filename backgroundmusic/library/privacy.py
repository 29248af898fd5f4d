"""The data map of a person's library: favourites and playlists say what they like, so they are
theirs. Kept to provide the service while the account exists, given to them in the access
package, and deleted with the account (the data map's erasure steps)."""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    declare,
)

_library = PersonalData(
    category=Category.MEDIA_CONSUMPTION,
    purpose=Purpose.CONTRACT,
    legal_basis=LegalBasis.CONTRACT,
    retention=Retentions.ACCOUNT,
    erasure=Erasure.DELETE,
    source=Source.PERSON,
)
ACCOUNT_CLOSED = Clock(rule="account closed")

declare(
    "library.Favourite",
    subject="person",
    subjects=(Subjects.USERS,),
    personal={"track": _library, "added_at": _library},
    not_personal=["id", "person"],
    clock=ACCOUNT_CLOSED,
)
declare(
    "library.Playlist",
    subject="owner",
    subjects=(Subjects.USERS,),
    personal={name: _library for name in ("name", "description", "created_at", "updated_at")},
    not_personal=["id", "owner"],
    clock=ACCOUNT_CLOSED,
)
declare(
    "library.PlaylistEntry",
    subject="playlist__owner",
    subjects=(Subjects.USERS,),
    personal={"track": _library, "position": _library},
    not_personal=["id", "playlist"],
    clock=ACCOUNT_CLOSED,
)
