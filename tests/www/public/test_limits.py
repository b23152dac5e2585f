import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_a_public_page_beyond_its_limit_answers_a_french_429_with_retry_after(client, settings):
    settings.PUBLIC_RATE_LIMITS = {"pages": (2, 60)}
    url = reverse("public:start")
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    response = client.get(url)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response["RateLimit-Remaining"] == "0"
    assert "Trop de demandes" in response.content.decode()
    # another client (IP) is not refused
    assert client.get(url, REMOTE_ADDR="203.0.113.9").status_code == 200
