"""The pages people see when something is not there, not allowed, expired or broken."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from backgroundmusic.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_explained_in_the_site_layout_in_both_languages(client):
    english = client.get("/no-such-page/")
    russian = client.get("/no-such-page/", headers={"Accept-Language": "ru"})
    assert english.status_code == russian.status_code == 404
    page = english.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert '<a href="/catalog/">Browse the catalogue</a>' in page
    assert '<nav class="main-nav"' in page
    assert "<h1>Страница не найдена</h1>" in russian.content.decode()


def test_a_page_the_account_may_not_open_says_so(client):
    client.force_login(UserFactory.create())
    response = client.get("/staff/analytics/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert "Your account may not open this page." in page


def test_an_expired_form_is_explained_and_changes_nothing():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "someone", "password": "secret-words"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>The form has expired</h1>" in page
    assert '<nav class="main-nav"' in page


def test_a_request_for_an_unknown_host_gets_a_plain_bad_request_page(client):
    response = client.get("/", HTTP_HOST="not-our-site.example")
    assert response.status_code == 400
    page = response.content.decode()
    assert "<h1>Bad request</h1>" in page
    assert '<h2 lang="ru">Неверный запрос</h2>' in page


def test_the_server_error_page_needs_no_context():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong on our side</h1>" in page
    assert '<h2 lang="ru">У нас что-то сломалось</h2>' in page
