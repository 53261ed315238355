"""The day view's cards, written in Python (scheduling/day_cards.py): every text escaped, the
status form with its token, version and way back, the gate's block and the re-screen link."""

from datetime import date
from html.parser import HTMLParser

from scheduling import day_cards
from scheduling.selectors import Card, Column

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


class Tags(HTMLParser):
    """The tags of a piece of HTML, with their attributes, and its text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def card(**changes) -> Card:
    values = {
        "pk": 7,
        "status": "booked",
        "status_label": "Booked",
        "late_cancel": False,
        "starts": "9:00 AM",
        "times": "9:00 AM–9:20 AM",
        "day": date(2026, 12, 7),
        "url": "/appointments/7/",
        "patient_url": "/patients/3/",
        "patient_name": HOSTILE,
        "what": "Session 2/4",
        "doctor_name": "Dr " + HOSTILE,
        "room_name": "Room " + HOSTILE,
        "notes": HOSTILE,
        "version": 4,
        "status_url": "/appointments/7/status/",
        "buttons": [("checked_in", "Checked in", "btn-outline-primary")],
        "doctor_id": 1,
        "room_id": 2,
    }
    return Card(**{**values, **changes})


def written(*cards, by_room=False, here="/schedule/day/?date=2026-12-07&by=room"):
    [(_column, html)] = day_cards.write(
        [Column("Dr A", 1, list(cards))],
        by_room=by_room,
        page=day_cards.fields(here, "tok<en>"),
    )
    return html


def test_every_text_is_escaped_and_no_tag_comes_from_data():
    [html] = written(card(blocked=HOSTILE, late_cancel=True, online=True))
    tags = parsed(html)
    assert "script" not in {tag for tag, _attrs in tags.tags}
    text = "".join(tags.text)
    assert text.count(HOSTILE) == 4  # the name, the room, the notes, what blocks the visit
    assert "Room " + HOSTILE in text and "Dr " + HOSTILE not in text
    assert "Late cancellation" in text and "Online" in text


def test_the_room_layout_names_the_doctor_instead_of_the_room():
    [html] = written(card(), by_room=True)
    text = "".join(parsed(html).text)
    assert "Dr " + HOSTILE in text and "Room " + HOSTILE not in text


def test_the_status_form_posts_the_version_token_and_way_back_with_each_button():
    here = "/schedule/day/?date=2026-12-07&by=room"
    [html] = written(
        card(buttons=[("checked_in", "Checked in", "a"), ("no_show", "Did not come", "b")])
    )
    tags = parsed(html).tags
    form = [attrs for tag, attrs in tags if tag == "form"]
    assert form == [
        {
            "method": "post",
            "action": "/appointments/7/status/",
            "class": "d-flex flex-wrap gap-1 mt-2",
        }
    ]
    fields = {attrs["name"]: attrs["value"] for tag, attrs in tags if tag == "input"}
    assert fields == {"csrfmiddlewaretoken": "tok<en>", "version": "4", "next": here}
    buttons = [(a["value"], a["class"]) for tag, a in tags if tag == "button"]
    assert buttons == [("checked_in", "btn btn-sm a"), ("no_show", "btn btn-sm b")]


def test_a_visit_to_re_screen_links_there_and_back_with_or_without_buttons():
    for buttons in ([("no_show", "Did not come", "b")], []):
        [html] = written(card(buttons=buttons, rescreen_url="/appointments/7/rescreen/"))
        links = [a["href"] for tag, a in parsed(html).tags if tag == "a"]
        assert (
            "/appointments/7/rescreen/?next=/schedule/day/%3Fdate%3D2026-12-07%26by%3Droom" in links
        )


def test_a_card_of_another_day_has_no_form_and_a_blocked_one_says_so():
    [html] = written(card(buttons=[], blocked="Infection in the area"))
    tags = parsed(html)
    assert "form" not in {tag for tag, _attrs in tags.tags}
    assert [a for tag, a in tags.tags if "data-blocked" in a]
    assert "Infection in the area" in "".join(tags.text)
