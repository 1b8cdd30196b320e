"""In a real Chromium: the pair page marks the changes alike on both sides (nothing in the DOM tells which side is the
original), per-change verdicts are entered with the keyboard and stored, the page fits a 1366x768 laptop screen with
the essays on at least 60% of its height, key hints are readable, and `?` opens the key help on every rater page.
Screenshots go to $AES_SCREENSHOT_DIR when it is set."""

import pytest
from rating_helpers import PASSWORD, make_pair, make_raters, screenshot

from labeling.models import Assignment, EditVerdict, Rating
from labeling.rating.assignment import claim_next
from rl.changes import pair_changes

pytestmark = pytest.mark.browser

ESSAY = (
    "Some people believe that cars should be banned from city centres, while others think this would harm "
    "businesses. In my opinion, limiting cars brings more benefits than drawbacks.\n\n"
    "On the one hand, fewer cars means cleaner air and safer streets for pedestrians and cyclists. Cities such as "
    "Oslo and Madrid have closed their centres to private cars, and the air there is measurably cleaner. "
    "Children can walk to school without fear, and older people can cross the road at their own pace. "
    "Furthermore, public transport becomes faster when buses do not share the road with thousands of cars.\n\n"
    "On the other hand, shop owners worry that customers will not come if they cannot park nearby. This concern "
    "is understandable, because many families do their weekly shopping by car. However, studies show that people "
    "who walk or cycle visit shops more often and spend more money over a month than drivers do. Delivery vans "
    "could still be allowed at certain hours, so businesses would not be cut off from their suppliers.\n\n"
    "In conclusion I believe that the advantages of banning cars from city centres outweigh the disadvantages, "
    "provided that good public transport and delivery rules are in place. Governments should therefore introduce "
    "such bans step by step, and listen to local businesses along the way."
)
REWRITE = (
    ESSAY.replace("fewer cars means", "fewer cars mean")
    .replace("In conclusion I believe", "In conclusion, I believe")
    .replace("over a month than drivers do", "over a month than drivers")
)
KEYS = {"A": "q", "same": "w", "B": "e"}


@pytest.fixture
def pair(transactional_db):
    """One pair with three changes, K=2, and two raters."""
    return make_pair(ESSAY, REWRITE), make_raters(2)


def open_pair(page, login, live_server, rater, rewrite_side: str) -> Assignment:
    assignment = claim_next(rater)
    Assignment.objects.filter(pk=assignment.pk).update(rewrite_side=rewrite_side)
    login(rater.username, PASSWORD)
    page.goto(f"{live_server.url}/rate/a/{assignment.token}/")
    return assignment


# The structure of a subtree with every text left out: tag, classes, attribute names and the values of the
# attributes that carry no words (change indexes, verdict buttons). Ids and the side letter are normalised.
STRUCTURE_JS = """(root) => {
  const out = [];
  const walk = (el, depth) => {
    const attrs = [...el.attributes].map((a) => a.name).filter((n) => n !== 'id').sort();
    const kept = ['data-change', 'data-verdict', 'data-passage'].map((n) => el.getAttribute(n));
    out.push([depth, el.tagName, [...el.classList].sort().join(' '), attrs.join(' '), kept.join('|'),
              el.id ? el.id.replace(/-[ab]$/, '-X') : '']);
    [...el.children].forEach((child) => walk(child, depth + 1));
  };
  walk(root, 0);
  return out;
}"""


def test_changes_are_marked_alike_and_nothing_tells_which_side_is_the_original(page, login, live_server, pair):
    item, (first, second) = pair
    changes = pair_changes(ESSAY, REWRITE)
    assert len(changes.changes) == 3
    open_pair(page, login, live_server, first, rewrite_side="A")
    page.keyboard.press("f")  # the full essays
    side_a, side_b = page.locator("#side-a"), page.locator("#side-b")
    marks_a = side_a.locator("mark.change").all_inner_texts()
    marks_b = side_b.locator("mark.change").all_inner_texts()
    # A holds the rewrite here: its marks are the rewrite's changed words, B's the original's, in reading order.
    assert marks_a == [changes.after(c) for c in changes.changes]
    assert marks_b == [changes.before(c) for c in changes.changes]
    assert marks_a != marks_b
    structure_a = side_a.evaluate(STRUCTURE_JS)
    assert structure_a == side_b.evaluate(STRUCTURE_JS)
    assert [row for row in structure_a if row[1] == "MARK"] == [
        [2, "MARK", "change current" if i == 0 else "change", "class data-change", f"{i}||", ""] for i in range(3)
    ]
    # Same styling on both sides; the current change (the first) stands out on both.
    styles = page.evaluate(
        """() => [...document.querySelectorAll('#view-full mark.change')].map((m) => {
             const s = getComputedStyle(m); return [s.backgroundColor, s.boxShadow, s.outline, s.fontWeight]; })"""
    )
    assert styles[:3] == styles[3:] and styles[0] != styles[1] == styles[2]
    # The compact view: each changed passage side by side, built alike.
    page.keyboard.press("f")
    rows = page.locator(".passage-row")
    assert rows.count() == 3  # three sentences hold one change each
    for i in range(rows.count()):
        cell_a, cell_b = rows.nth(i).locator(".cell").nth(0), rows.nth(i).locator(".cell").nth(1)
        assert cell_a.evaluate(STRUCTURE_JS) == cell_b.evaluate(STRUCTURE_JS)
        assert cell_a.locator("mark.change").count() == 1
    assert "fewer cars mean cleaner air" in rows.nth(0).locator(".cell").nth(0).inner_text()
    assert "fewer cars means cleaner air" in rows.nth(0).locator(".cell").nth(1).inner_text()
    # The whole form is built alike whichever side holds the rewrite: only words and tokens differ.
    form_with_rewrite_on_a = page.locator("#rating-form").evaluate(STRUCTURE_JS)
    page.context.clear_cookies()
    open_pair(page, login, live_server, second, rewrite_side="B")
    assert page.locator("#rating-form").evaluate(STRUCTURE_JS) == form_with_rewrite_on_a
    assert "fewer cars mean cleaner" in page.locator(".passage-row").nth(0).locator(".cell").nth(1).inner_text()


def test_verdicts_per_change_by_keyboard_are_stored_as_original_or_rewrite(page, login, live_server, pair):
    item, (rater, _) = pair
    assignment = open_pair(page, login, live_server, rater, rewrite_side="B")
    assert page.locator("#essays").get_attribute("data-view") == "changes"
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    page.keyboard.type("65")
    page.keyboard.press(KEYS["B"])  # change 1: B better (then on to change 2)
    page.keyboard.press(KEYS["A"])  # change 2: A better
    page.keyboard.press("k")  # back to change 2
    page.keyboard.press(KEYS["A"])  # the same key again clears it
    page.keyboard.press(KEYS["same"])  # change 2: about the same
    page.keyboard.press("j")  # change 3 (from 3: wraps to 1)
    assert page.inner_text("#change-pos") == "1"
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.inner_text("#change-pos") == "3"  # left without a verdict: verdicts are optional
    assert page.locator("#view-changes .verdict.current").get_attribute("data-change") == "2"
    assert page.input_value("#id_edit_0") == "B" and page.input_value("#id_edit_1") == "same"
    assert page.locator("#change-pills button").all_inner_texts() == ["1:B", "2:=", "3"]
    page.reload()  # the draft keeps the verdicts
    assert page.input_value("#id_edit_0") == "B" and page.input_value("#id_edit_1") == "same"
    page.keyboard.press("c")  # B is better overall
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/rate/")

    rating = Rating.objects.get(assignment=assignment)
    verdicts = list(EditVerdict.objects.filter(rating=rating).values_list("position", "before", "after", "verdict"))
    changes = pair_changes(ESSAY, REWRITE).changes
    # B held the rewrite: "B better" is the rewrite better.
    assert verdicts == [
        (0, "means", "mean", "rewrite"),
        (1, "drivers do", "drivers", "same"),
    ]
    stored = EditVerdict.objects.filter(rating=rating).values_list("original_start", "original_end")
    assert list(stored) == [c.original for c in changes[:2]]
    assert rating.preference == "rewrite" and str(rating.band_original) == "6.0" and str(rating.band_rewrite) == "6.5"


def contrast(page, selector: str) -> float:
    """WCAG contrast ratio between an element's text colour and the background it is drawn on."""
    colours = page.locator(selector).first.evaluate(
        """(el) => {
          const text = getComputedStyle(el).color;
          let node = el, bg = 'rgba(0, 0, 0, 0)';
          while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
            bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
          }
          return [text, bg];
        }"""
    )

    def luminance(css: str) -> float:
        r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted(map(luminance, colours), reverse=True)
    return (high + 0.05) / (low + 0.05)


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_the_page_fits_a_laptop_screen_and_key_hints_are_readable(browser, live_server, pair):
    item, (rater, _) = pair
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", rater.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/rate/")
        assert contrast(page, "#start kbd") >= 4.5
        page.keyboard.press("n")
        page.wait_for_url("**/rate/a/**")
        for view in ("changes", "full"):
            assert page.locator("#essays").get_attribute("data-view") == view
            essays, panel, submit = box(page, "#essays"), box(page, "#panel"), box(page, "#submit-next")
            assert essays["height"] >= 0.6 * 768, essays
            assert essays["y"] >= 0 and essays["y"] + essays["height"] <= 768
            assert panel["x"] >= essays["x"] + essays["width"]  # beside the essays, never over them
            assert submit["y"] >= 0 and submit["y"] + submit["height"] <= 768  # the primary button is on screen
            assert page.evaluate("document.documentElement.scrollHeight") <= 768  # the page itself never scrolls
            assert contrast(page, "#submit-next kbd") >= 4.5
            if view == "changes":
                screenshot(page, "pair-page-1366x768")
            else:
                text = box(page, "#side-a .essay")
                assert text["height"] > essays["height"]  # a full essay scrolls inside the essays box
                screenshot(page, "pair-page-1366x768-full")
            page.keyboard.press("f")
    finally:
        context.close()


def test_question_mark_opens_the_key_help_on_every_rater_page(page, login, live_server, pair):
    _, (rater, _) = pair
    login(rater.username, PASSWORD)
    pages = {"/rate/": "start rating", "NEXT": "next / previous change", "/accounts/password/": "no keyboard shortcuts"}
    for path, own_keys in pages.items():
        if path == "NEXT":
            page.goto(f"{live_server.url}/rate/")
            page.keyboard.press("n")
            page.wait_for_url("**/rate/a/**")
        else:
            page.goto(f"{live_server.url}{path}")
        help_dialog = page.locator("#keys-help")
        assert not help_dialog.is_visible()
        page.locator("body").click(position={"x": 5, "y": 300})  # out of any text field
        page.keyboard.press("?")
        assert help_dialog.is_visible(), path
        assert own_keys in help_dialog.inner_text()  # the page's own keys
        page.keyboard.press("Escape")
        assert not help_dialog.is_visible()
