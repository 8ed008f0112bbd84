from notify import templates
from notify.templates import PLACEHOLDER, render, safe_format


def test_language_chooses_template():
    zh = render("claim_request_approved", "zh-CN", {"customer_name": "星河科技"})
    en = render("claim_request_approved", "en", {"customer_name": "Galaxy Ltd"})
    assert zh["title"] == "领取申请已通过" and "星河科技" in zh["body"] and zh["language"] == "zh-CN"
    assert en["title"] == "Claim request approved" and "Galaxy Ltd" in en["body"] and en["language"] == "en"


def test_language_normalised_and_fallback():
    assert templates.language_of("en-GB") == "en"
    assert templates.language_of("EN") == "en"
    assert templates.language_of(None) == "zh-CN"
    assert templates.language_of("fr") == "zh-CN"
    assert render("reclaimed", "fr", {})["language"] == "zh-CN"


def test_missing_values_render_placeholder_never_braces():
    for kind in templates.TEMPLATES:
        for lang in templates.LANGUAGES:
            out = render(kind, lang, {})
            assert "{" not in out["body"] and "}" not in out["body"], (kind, lang)
            assert "None" not in out["body"]
    assert PLACEHOLDER in render("claim_request_rejected", "en", {"customer_name": "X"})["body"]


def test_empty_and_none_values_are_placeholders():
    out = render("claim_request_rejected", "en", {"customer_name": "  ", "reason": None})
    assert out["body"].count(PLACEHOLDER) == 2


def test_values_with_braces_are_not_interpreted():
    out = render("claim_request_approved", "en", {"customer_name": "{reason} {0} {__class__}"})
    assert "{reason} {0} {__class__}" in out["body"]


def test_attribute_lookups_in_template_are_safe():
    assert safe_format("a {x.__class__} b {0} c {y}", {"x": 1, "y": 2}) == f"a {PLACEHOLDER} b {PLACEHOLDER} c 2"


def test_unknown_kind_generic_message():
    out = render("something.new", "en", {})
    assert out["title"] == "Notification" and "something.new" in out["body"]


def test_result_words_translated():
    assert "有效拜访" in render("visit_reviewed", "zh-CN", {"result": "valid"})["body"]
    assert "invalid" in render("visit_reviewed", "en", {"result": "invalid"})["body"]


def test_list_values_joined():
    out = render("daily_digest", "en", {"count": 2, "date": "2026-01-02", "items": ["A", None, "B"]})
    assert "A; B" in out["body"]


def test_language_choice_order():
    from notify.templates import choose_language

    chosen_en = {"preferred_language": "en", "language": "en"}
    not_chosen = {"preferred_language": None, "language": "zh-CN"}  # identity shows zh-CN but nobody chose it
    assert choose_language(chosen_en, None, "zh-CN", "zh-CN") == "en"
    assert choose_language(not_chosen, None, "en-US", "zh-CN") == "en"
    assert choose_language(not_chosen, None, "", None) == "zh-CN"
    assert choose_language(not_chosen, "en", "zh-CN", None) == "en"  # the event's own hint (invitee, CBM)
    assert choose_language({}, None, None, "en") == "en"             # the tenant's default
    assert choose_language({"language": "en"}, None, "zh-CN", None) == "en"  # stand-ins without preferred_language
    assert choose_language({}, None, "fr-FR", None) == "zh-CN"       # no template for it: zh-CN
