"""The caller matrix of the licensing API (tests/callers.py): the plans and the certificate
check answer everyone alike; the /me/ operations answer 401 to anonymous callers, the owner's
own rows to the owner, and nothing to anyone else, whatever their staff roles (staff work on the
/staff/ pages; the API gives them no other person's agreement, order or download)."""

import pytest
from django.test import Client

from backgroundmusic.core import clock
from backgroundmusic.licensing.models import CoveredUse
from backgroundmusic.licensing.tests.api_scene import NOW, Licensee, licensee_scene
from tests.callers import ALL_CALLERS

pytestmark = pytest.mark.django_db

UNAUTHENTICATED = {
    "error": {"code": "unauthenticated", "message": "Sign in first.", "details": None}
}
WORK = {"url": "https://youtu.be/new", "published_on": "2026-03-11"}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def scene(owner) -> Licensee:
    return licensee_scene(owner)


def public_paths(scene: Licensee) -> list[str]:
    code = scene.subscription.plan_edition.plan.code
    return [
        "/api/plans",
        f"/api/plans/{code}",
        f"/api/certificates/{scene.subscription.certificate.public_id}",
    ]


@pytest.mark.parametrize("kind", ALL_CALLERS)
def test_the_plans_and_the_certificate_check_answer_every_caller_alike(caller_for, kind, scene):
    visitor = Client()
    caller = caller_for(kind)
    for path in public_paths(scene):
        response = caller.client.get(path)
        assert response.status_code == 200, path
        assert response.json() == visitor.get(path).json(), path
    certificate = caller.client.get(public_paths(scene)[2]).json()
    assert (certificate["number"], certificate["licensee"]) == (
        scene.subscription.number,
        "A private person",
    )


@pytest.mark.parametrize("kind", ALL_CALLERS)
def test_the_me_operations_answer_the_owner_only(caller_for, kind, scene):
    caller = caller_for(kind)
    client = caller.client
    number, order = scene.subscription.number, scene.order.public_id
    reads = {
        "agreements": client.get("/api/me/agreements"),
        "agreement": client.get(f"/api/me/agreements/{number}"),
        "coverage": client.get(f"/api/me/agreements/{number}/coverage"),
        "orders": client.get("/api/me/orders"),
        "order": client.get(f"/api/me/orders/{order}"),
        "downloads": client.get("/api/me/downloads"),
    }
    work = client.post(f"/api/me/agreements/{number}/works", WORK, content_type="application/json")
    registered = list(CoveredUse.objects.order_by("pk").values_list("url", flat=True))
    statuses = {name: response.status_code for name, response in reads.items()}

    if kind == "anonymous":
        assert statuses == dict.fromkeys(reads, 401)
        assert all(response.json() == UNAUTHENTICATED for response in reads.values())
        assert (work.status_code, work.json()) == (401, UNAUTHENTICATED)
        assert registered == ["https://youtu.be/abc"]
    elif kind == "owner":
        assert statuses == dict.fromkeys(reads, 200)
        assert {a["number"] for a in reads["agreements"].json()} == {
            scene.subscription.number,
            scene.single.number,
        }
        assert reads["agreement"].json()["number"] == number
        assert reads["coverage"].json()["number"] == number
        assert len(reads["orders"].json()) == 2
        assert reads["order"].json()["public_id"] == order
        assert reads["downloads"].json()["total"] == 3
        assert work.status_code == 201
        assert registered == ["https://youtu.be/abc", "https://youtu.be/new"]
    else:
        # Signed in, not the owner: their own (empty) lists; the owner's rows do not exist.
        assert statuses == {
            "agreements": 200,
            "agreement": 404,
            "coverage": 404,
            "orders": 200,
            "order": 404,
            "downloads": 200,
        }
        assert reads["agreements"].json() == []
        assert reads["orders"].json() == []
        assert reads["downloads"].json() == {"items": [], "total": 0, "page": 1, "page_size": 50}
        assert {reads[name].json()["error"]["code"] for name in ("agreement", "order")} == {
            "not_found"
        }
        assert work.status_code == 404
        assert registered == ["https://youtu.be/abc"]
