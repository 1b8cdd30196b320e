"""Word-level diff of a rewrite against its original."""

from labeling.training.textdiff import tokenize, word_diff


def test_identical_texts_have_no_marks():
    text = "Nowadays, many people believe that technology is good.\n\nHowever, others disagree."
    diff = word_diff(text, text)
    assert diff.html == text
    assert (diff.words_inserted, diff.words_deleted) == (0, 0)


def test_a_changed_word_is_deleted_and_inserted_in_place():
    assert word_diff("He go to school every day.", "He goes to school every day.").html == (
        "He <del>go</del><ins>goes</ins> to school every day."
    )


def test_added_and_removed_words_and_punctuation_are_counted():
    diff = word_diff("In conclusion I think it is a very good idea.", "In conclusion, I think it is a good idea.")
    assert diff.html == "In conclusion<ins>,</ins> I think it is a <del>very </del>good idea."
    assert (diff.words_inserted, diff.words_deleted) == (1, 1)


def test_everything_is_escaped_even_inside_marks():
    html = word_diff('a <script>alert("x")</script> b', "a <img src=x onerror=alert(1)> b").html
    assert "<script>" not in html and "<img" not in html
    assert "<del>script&gt;</del>" in html and "&quot;x&quot;" in html and "&lt;/script" in html
    assert html.startswith("a ") and html.endswith(" b")


def test_removing_the_marked_up_parts_gives_back_each_text():
    import re
    from html import unescape

    original = "Firstly, goverment should invest in public transport; secondly, taxes."
    rewrite = "Firstly, the government should invest in public transport. Secondly, taxes."
    html = word_diff(original, rewrite).html
    assert unescape(re.sub(r"<ins>.*?</ins>|</?del>", "", html)) == original
    assert unescape(re.sub(r"<del>.*?</del>|</?ins>", "", html)) == rewrite


def test_tokens_keep_contractions_whole_and_cover_the_text():
    text = "It's people's choice,  isn't it?"
    tokens = tokenize(text)
    assert "It's" in tokens and "people's" in tokens and "isn't" in tokens
    assert "".join(tokens) == text
