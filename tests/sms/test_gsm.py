"""GSM-7: known segment counts, the French conversion, and properties over any text."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv.sms import gsm
from rdv.sms.gsm import GSM7, UCS2, is_gsm, segments, to_gsm

BASIC = sorted(gsm.BASIC)
EXTENSION = sorted(gsm.EXTENSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 155, (GSM7, 1)),  # more than a concatenated segment holds, still one SMS
        ("a" * 160, (GSM7, 1)),
        ("a" * 161, (GSM7, 2)),
        ("a" * 306, (GSM7, 2)),
        ("a" * 307, (GSM7, 3)),
        ("€", (GSM7, 1)),
        ("a" * 159 + "€", (GSM7, 2)),  # the euro counts two: 161 septets
        ("a" * 158 + "€", (GSM7, 1)),
        ("é" * 160, (GSM7, 1)),  # é is GSM-7
        ("ê" * 68, (UCS2, 1)),
        ("ê" * 70, (UCS2, 1)),
        ("ê" * 71, (UCS2, 2)),
        ("ê" * 134, (UCS2, 2)),
        ("ê" * 135, (UCS2, 3)),
        ("", (GSM7, 1)),
    ],
)
def test_known_segment_counts(text, expected):
    assert segments(text) == expected


def test_an_escape_pair_is_never_split_between_two_segments():
    # 152 plain characters then « € »: the pair does not fit in the first 153 septets.
    assert segments("a" * 152 + "€" + "a" * 152) == (GSM7, 3)
    assert segments("a" * 151 + "€" + "a" * 153) == (GSM7, 2)


def test_an_emoji_takes_two_ucs2_units():
    assert segments("😀" * 35) == (UCS2, 1)
    assert segments("😀" * 36) == (UCS2, 2)
    assert gsm.length("😀") == 2


def test_surrogate_pairs_start_right_after_the_basic_multilingual_plane():
    assert gsm.length("\uffff") == 1  # the last character of the plane: one unit
    assert gsm.length("\U00010000") == 2  # the first one beyond it: a surrogate pair
    assert segments("\uffff" * 70) == (UCS2, 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rendez-vous à 14h à l'hôtel de ville", "Rendez-vous à 14h à l'hotel de ville"),
        ("Maître, fenêtre, île, aïeul, Noël, août, ça", "Maitre, fenetre, ile, aieul, Noel, aout, ca"),
        ("Ça, À, È, Ê, Î, Ô, Û, Ÿ", "Ça, A, E, E, I, O, U, Y"),
        ("é è ù ì ò à É", "é è ù ì ò à É"),
        ("l’accueil « Maison » — 9h–12h…", 'l\'accueil "Maison" - 9h-12h...'),
        ("«\u00a0Bonjour\u202f»", '"Bonjour"'),
        ("cœur Œuvre", "coeur OEuvre"),
        ("10\u00a0h\u202f30\tn°5", "10 h 30 no5"),
        ("“entre guillemets”", '"entre guillemets"'),
        ("Ā ş", "A s"),
        ("RDV 😀 你好", "RDV ? ??"),
        ("zéro\u200blargeur", "zérolargeur"),
    ],
)
def test_to_gsm_keeps_french_text_readable_and_7_bit(text, expected):
    assert to_gsm(text) == expected
    assert is_gsm(to_gsm(text))


def test_gsm_characters_are_kept_as_they_are():
    text = "".join(BASIC + EXTENSION)
    assert to_gsm(text) == text


@given(st.text())
def test_to_gsm_output_is_always_gsm7(text):
    converted = to_gsm(text)
    assert is_gsm(converted)
    assert segments(converted)[0] == GSM7


@given(st.text(alphabet=st.sampled_from(BASIC + EXTENSION)))
def test_gsm_segments_follow_the_7_bit_rules(text):
    septets = sum(2 if char in gsm.EXTENSION else 1 for char in text)
    encoding, count = segments(text)
    assert encoding == GSM7
    if septets <= 160:
        assert count == 1
    else:
        # At least the plain division, at most one more segment per lost septet of an escape pair.
        assert math.ceil(septets / 153) <= count <= math.ceil(septets / 152)


@given(st.text(alphabet=st.sampled_from(BASIC), max_size=1000))
def test_plain_gsm_text_costs_exactly_the_division(text):
    count = segments(text)[1]
    assert count == (1 if len(text) <= 160 else math.ceil(len(text) / 153))


@given(st.text(min_size=1))
def test_any_text_outside_gsm7_is_counted_in_ucs2_units(text):
    encoding, count = segments(text)
    units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
    if is_gsm(text):
        assert encoding == GSM7
    else:
        assert encoding == UCS2
        if units <= 70:
            assert count == 1
        else:  # surrogate pairs are never split: at most one unit lost per segment
            assert math.ceil(units / 67) <= count <= math.ceil(units / 66)
