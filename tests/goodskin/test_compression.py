"""Pages go out gzipped to a browser that accepts it (GZipMiddleware), with Django's BREACH
padding; the static files are left to WhiteNoise, and small answers stay as they are."""

import gzip

import pytest

PAGE = "/schedule/day/"


@pytest.fixture
def desk_client(client, front_desk):
    client.force_login(front_desk)
    return client


def test_a_page_goes_out_gzipped_to_a_browser_that_accepts_it(desk_client):
    plain = desk_client.get(PAGE)
    packed = desk_client.get(PAGE, headers={"accept-encoding": "gzip, deflate, br"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content)
    assert html.lower().startswith(b"<!doctype html>")
    assert len(packed.content) < len(html) / 2  # an empty day; a busy one: 69 KB to 5 KB
    assert int(packed["Content-Length"]) == len(packed.content)


def test_each_compressed_page_is_padded_against_breach(desk_client):
    """Django writes 0-99 random bytes as the gzip member's file name (FNAME flag), so the
    length of a compressed page does not tell what compressed well."""
    sizes = set()
    for _ in range(8):
        packed = desk_client.get(PAGE, headers={"accept-encoding": "gzip"}).content
        assert packed[3] & gzip.FNAME
        sizes.add(packed[10:].index(b"\x00"))
    assert len(sizes) > 1


def test_the_csrf_token_differs_in_every_page(desk_client):
    first = desk_client.get(PAGE).context["csrf_token"]
    second = desk_client.get(PAGE).context["csrf_token"]
    assert str(first) != str(second)


def test_a_short_answer_is_not_compressed(client, db):
    response = client.get("/healthz", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert response.json()["status"] == "ok"


def test_static_files_are_left_to_whitenoise(client, db):
    response = client.get("/static/css/goodskin.css", headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert response.get("Content-Encoding") != "gzip" or not body.startswith(b"\x1f\x8b")
