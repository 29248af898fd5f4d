import pytest
from django.db import connection

from backgroundmusic.accounts import services
from backgroundmusic.accounts.models import Profile, PublicProfileChoice, SocialLink

pytestmark = pytest.mark.django_db


def make_user(username: str):
    return services.user_create(
        username=username,
        email=f"{username}@example.com",
        password="a-long-password-1",
        email_verified=True,
    )


def profile_post(**overrides):
    data = {
        "username": "owner",
        "full_name": "Ivan Petrov",
        "account_type": "natural",
        "company_name": "",
        "tax_id": "",
        "address_country": "Russia",
        "address_region": "Moscow region",
        "address_city": "Moscow",
        "address_street": "Tverskaya 1",
        "address_postcode": "125009",
        "phone": "8 (916) 123-45-67",
        "language": "ru",
        "links-TOTAL_FORMS": "2",
        "links-INITIAL_FORMS": "0",
        "links-MIN_NUM_FORMS": "0",
        "links-MAX_NUM_FORMS": "20",
        "links-0-url": "https://vk.com/ivan",
        "links-1-url": "",
    }
    data.update(overrides)
    return data


def stored_profile(user) -> dict:
    profile = Profile.objects.get(user=user)
    return {
        "username": profile.user.username,
        **{
            name: getattr(profile, name)
            for name in (
                "account_type",
                "full_name",
                "company_name",
                "tax_id",
                "address_country",
                "address_region",
                "address_city",
                "address_street",
                "address_postcode",
                "phone",
                "language",
            )
        },
        "links": list(SocialLink.objects.filter(profile=profile).values_list("url", flat=True)),
    }


def test_anonymous_is_sent_to_log_in_and_nothing_changes(client):
    owner = make_user("owner")
    before = stored_profile(owner)
    response = client.post("/account/profile/", profile_post())
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/account/profile/"
    assert stored_profile(owner) == before


def test_owner_saves_the_profile_and_it_is_stored_sealed(client):
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post("/account/profile/", profile_post())
    assert response.status_code == 302
    assert stored_profile(owner) == {
        "username": "owner",
        "account_type": "natural",
        "full_name": "Ivan Petrov",
        "company_name": "",
        "tax_id": "",
        "address_country": "Russia",
        "address_region": "Moscow region",
        "address_city": "Moscow",
        "address_street": "Tverskaya 1",
        "address_postcode": "125009",
        "phone": "+79161234567",
        "language": "ru",
        "links": ["https://vk.com/ivan"],
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT full_name, address_street, phone FROM accounts_profile WHERE user_id = %s",
            [owner.pk],
        )
        raw_name, raw_street, raw_phone = cursor.fetchone()
    assert raw_name.startswith("enc1:") and "Ivan" not in raw_name
    assert raw_street.startswith("enc1:") and "Tverskaya" not in raw_street
    assert raw_phone.startswith("enc1:") and "916" not in raw_phone


def test_a_link_typed_in_capitals_is_kept_with_a_lowercase_scheme(client):
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post(
        "/account/profile/", profile_post(**{"links-0-url": "HTTPS://VK.com/Ivan"})
    )
    assert response.status_code == 302
    assert stored_profile(owner)["links"] == ["https://VK.com/Ivan"]


def test_another_user_can_only_edit_their_own_profile(client):
    owner = make_user("owner")
    other = make_user("other")
    client.force_login(owner)
    client.post("/account/profile/", profile_post())
    before = stored_profile(owner)
    client.force_login(other)
    page = client.get("/account/profile/")
    assert "Ivan Petrov" not in page.content.decode()
    client.post("/account/profile/", profile_post(username="other", full_name="Someone Else"))
    assert stored_profile(owner) == before
    assert stored_profile(other)["full_name"] == "Someone Else"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("address_postcode", "!!", "A postcode has 3 to 12 letters, digits, spaces or hyphens."),
        (
            "links-0-url",
            "http://vk.com/ivan",
            "Enter a full link starting with https://, e.g. https://example.com/you.",
        ),
        (
            "links-0-url",
            "vk.com/ivan",
            "Enter a full link starting with https://, e.g. https://example.com/you.",
        ),
        (
            "full_name",
            "Ivan\nPetrov",
            "The text holds a line break or tab (U+000A); this value is one line.",
        ),
        (
            "full_name",
            "Ivan \u202ePetrov",
            "The text holds the bidirectional control U+202E, which makes text read differently "
            "from what it is; remove it.",
        ),
        (
            "address_city",
            "Amster\x07dam",
            "The text holds the control character U+0007; remove it.",
        ),
        (
            "links-0-url",
            "https://vk.com/iv\u2066an",
            "The text holds the bidirectional control U+2066, which makes text read differently "
            "from what it is; remove it.",
        ),
        (
            "account_type",
            "robot",
            "Select a valid choice. robot is not one of the available choices.",
        ),
        (
            "phone",
            "+1 800 FLOWERS",
            "Use only digits, spaces, dashes and brackets, with + before the country code.",
        ),
        (
            "phone",
            "+7 916 123-45",
            "This is not a valid phone number: check the digits and the country code, "
            "e.g. +7 916 123-45-67.",
        ),
        ("language", "de", "Choose English or Russian."),
        ("username", "", "This field is required."),
        ("username", "admin", "Username can not be used. Please use other username."),
    ],
)
def test_invalid_input_is_explained_kept_and_changes_nothing(client, field, value, message):
    owner = make_user("owner")
    client.force_login(owner)
    client.post("/account/profile/", profile_post())
    before = stored_profile(owner)
    response = client.post(
        "/account/profile/",
        profile_post(
            **{field: value, "full_name": "Typed Name" if field != "full_name" else value}
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "The profile was not saved: please correct the marked fields." in html
    if field != "full_name":
        assert 'value="Typed Name"' in html
    assert stored_profile(owner) == before


def test_the_phone_is_shown_as_stored_and_a_wrong_one_is_kept_and_explained_in_russian(client):
    owner = make_user("owner")
    client.force_login(owner)
    assert (
        client.post("/account/profile/", profile_post(phone="+44 20 7946 0958")).status_code == 302
    )
    html = client.get("/account/profile/").content.decode()
    assert 'type="tel" name="phone" value="+44 20 7946 0958"' in html
    assert 'autocomplete="tel"' in html
    assert "Contact phone (optional)" in html
    assert '<option value="ru" selected>Русский</option>' in html

    response = client.post(
        "/account/profile/", profile_post(phone="8 916 ABC"), headers={"accept-language": "ru"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="8 916 ABC"' in html
    assert "Контактный телефон (необязательно)" in html
    assert (
        "Используйте только цифры, пробелы, дефисы и скобки, а перед кодом страны — знак +." in html
    )
    assert stored_profile(owner)["phone"] == "+442079460958"


def test_a_post_without_a_language_keeps_the_profile_s(client):
    owner = make_user("owner")
    client.force_login(owner)
    client.post("/account/profile/", profile_post(language="ru"))
    post = profile_post()
    del post["language"]
    assert client.post("/account/profile/", post).status_code == 302
    assert stored_profile(owner)["language"] == "ru"


def test_a_company_needs_its_name_and_tax_id(client):
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post("/account/profile/", profile_post(account_type="legal"))
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "company_name": ["A company account needs the company name."],
        "tax_id": ["A company account needs the tax id."],
    }
    response = client.post(
        "/account/profile/",
        profile_post(account_type="legal", company_name="Romashka LLC", tax_id="7707083893"),
    )
    assert response.status_code == 302
    stored = stored_profile(owner)
    assert (stored["company_name"], stored["tax_id"]) == ("Romashka LLC", "7707083893")


def test_switching_to_a_natural_person_drops_company_details(client):
    owner = make_user("owner")
    client.force_login(owner)
    client.post(
        "/account/profile/",
        profile_post(account_type="legal", company_name="R LLC", tax_id="7707083893"),
    )
    client.post(
        "/account/profile/",
        profile_post(account_type="natural", company_name="R LLC", tax_id="7707083893"),
    )
    stored = stored_profile(owner)
    assert (stored["company_name"], stored["tax_id"]) == ("", "")


def test_username_taken_by_someone_else_is_refused(client):
    owner = make_user("owner")
    make_user("taken")
    client.force_login(owner)
    response = client.post("/account/profile/", profile_post(username="Taken"))
    assert response.context["form"].errors == {"username": ["This username is already taken."]}
    assert stored_profile(owner)["username"] == "owner"


def test_duplicate_and_excess_links_are_refused(client):
    owner = make_user("owner")
    client.force_login(owner)
    response = client.post(
        "/account/profile/", profile_post(**{"links-1-url": "https://vk.com/ivan"})
    )
    assert response.context["links"].errors == [{}, {"url": ["This link is already in the list."]}]
    many = {f"links-{i}-url": f"https://example.com/{i}" for i in range(21)}
    response = client.post("/account/profile/", profile_post(**many, **{"links-TOTAL_FORMS": "21"}))
    assert response.status_code == 200
    assert stored_profile(owner)["links"] == []


class TestPublicProfile:
    def publish(self, client, owner, fields, indexable=False):
        client.force_login(owner)
        client.post("/account/profile/", profile_post())
        data = {"is_published": "on", "public_fields": fields}
        if indexable:
            data["is_indexable"] = "on"
        return client.post("/account/profile/public/", data)

    @pytest.mark.parametrize("caller", ["anonymous", "other_user"])
    def test_unpublished_profile_does_not_exist_for_others(self, client, caller):
        owner = make_user("owner")
        client.force_login(owner)
        client.post("/account/profile/", profile_post())
        client.logout()
        if caller == "other_user":
            client.force_login(make_user("other"))
        assert client.get("/u/owner/").status_code == 404
        assert client.get("/u/nobody/").status_code == 404

    def test_owner_sees_a_preview_that_is_never_indexed(self, client):
        owner = make_user("owner")
        client.force_login(owner)
        response = client.get("/u/owner/")
        assert response.status_code == 200
        assert "only you can see this page" in response.content.decode()
        assert response["X-Robots-Tag"] == "noindex, nofollow"

    def test_published_fields_only_and_noindex_until_indexing_is_chosen(self, client):
        owner = make_user("owner")
        assert self.publish(client, owner, ["full_name", "social_links"]).status_code == 302
        client.logout()
        response = client.get("/u/owner/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Ivan Petrov" in html and "https://vk.com/ivan" in html
        assert "Moscow" not in html and "Tverskaya" not in html
        assert '<meta name="robots" content="noindex, nofollow">' in html
        assert response["X-Robots-Tag"] == "noindex, nofollow"

        self.publish(client, owner, ["full_name", "social_links"], indexable=True)
        client.logout()
        response = client.get("/u/owner/")
        assert "X-Robots-Tag" not in response
        assert 'name="robots"' not in response.content.decode()

    def test_every_choice_is_recorded_with_time_and_fields(self, client):
        owner = make_user("owner")
        self.publish(client, owner, ["full_name"])
        self.publish(client, owner, ["full_name", "location"], indexable=True)
        client.post("/account/profile/public/", {})
        actions = list(
            PublicProfileChoice.objects.filter(user=owner)
            .order_by("pk")
            .values_list("action", "public_fields")
        )
        assert actions == [
            ("published", ["full_name"]),
            ("fields_changed", ["full_name", "location"]),
            ("indexing_allowed", ["full_name", "location"]),
            ("unpublished", []),
            ("indexing_withdrawn", []),
        ]
        assert client.get("/u/owner/").status_code == 200  # owner's preview
        client.logout()
        assert client.get("/u/owner/").status_code == 404

    def test_indexing_without_publishing_is_refused(self, client):
        owner = make_user("owner")
        client.force_login(owner)
        response = client.post("/account/profile/public/", {"is_indexable": "on"})
        assert response.status_code == 200
        assert response.context["form"].errors == {
            "is_indexable": ["Search engines can index the profile only once it is published."]
        }
        assert PublicProfileChoice.objects.count() == 0
