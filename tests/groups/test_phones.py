"""Phone numbers, channels and timezone names: pure functions, no database."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekatra.groups.phones import (
    CHANNELS,
    canonical_timezone,
    check_student,
    is_valid_timezone,
    normalise_channel,
    normalise_phone,
)

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@pytest.mark.parametrize("number, country_code, expected", [
    ("+919113029491", None, "+919113029491"),
    ("+91 91130 29491", None, "+919113029491"),
    ("+91-911-302-9491", "+1", "+919113029491"),  # a + number is read as it is
    ("9113029491", "+91", "+919113029491"),
    ("09113029491", "91", "+919113029491"),
    ("0091 9113029491", None, "+919113029491"),
    ("(415) 555-2671", "+1", "+14155552671"),
    ("020 7946 0958", "+44", "+442079460958"),
])
def test_numbers_are_normalised_to_e164(number, country_code, expected):
    assert normalise_phone(number, country_code) == expected


def test_default_region_reads_a_national_number():
    assert normalise_phone("9113029491", default_region="IN") == "+919113029491"


@pytest.mark.parametrize("number, country_code, reason", [
    ("", None, "required"),
    ("   ", None, "required"),
    ("not a number", "+91", "Not a phone number"),
    ("9113029491", None, "country_code"),
    ("12345", "+91", "not a valid phone number"),
    ("+91999999999", None, "not a valid phone number"),
    ("9113029491", "+999", "not a country calling code"),
    ("9113029491", "abc", "not a country calling code"),
    ("+1", None, "Not a phone number"),
    ("+" + "9" * 60, None, "at most"),
])
def test_bad_numbers_raise_value_error_with_a_reason(number, country_code, reason):
    with pytest.raises(ValueError, match=reason):
        normalise_phone(number, country_code)


@given(st.sampled_from(REGIONS))
def test_a_national_example_number_with_its_country_code_gives_its_e164(region):
    example = phonenumbers.example_number(region)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalise_phone(national, f"+{example.country_code}") == e164
    assert normalise_phone(national, default_region=region) == e164
    assert normalise_phone(e164) == e164
    international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
    assert normalise_phone(phonenumbers.format_number(example, international)) == e164


@given(st.text(max_size=50), st.one_of(st.none(), st.text(max_size=6)))
def test_any_input_is_a_number_or_a_value_error(number, country_code):
    try:
        result = normalise_phone(number, country_code)
    except ValueError as error:
        assert str(error)
    else:
        assert result.startswith("+") and result[1:].isdigit()
        assert normalise_phone(result) == result


@pytest.mark.parametrize("channel, expected", [("sms", "sms"), ("SMS", "sms"),
                                               (" WhatsApp ", "whatsapp")])
def test_channels_are_case_insensitive_and_stored_lowercase(channel, expected):
    assert normalise_channel(channel) == expected
    assert expected in CHANNELS


@pytest.mark.parametrize("channel", ["", "email", "telegram", "s m s"])
def test_other_channels_are_refused(channel):
    with pytest.raises(ValueError, match="sms, whatsapp"):
        normalise_channel(channel)


@pytest.mark.parametrize("name, expected", [
    ("Asia/Kolkata", "Asia/Kolkata"), ("asia/kolkata", "Asia/Kolkata"), ("UTC", "UTC"),
    (" America/New_York ", "America/New_York"), ("Asia/Calcutta", "Asia/Calcutta"),
])
def test_iana_names_are_accepted_in_their_canonical_spelling(name, expected):
    assert canonical_timezone(name) == expected
    assert is_valid_timezone(name)


@pytest.mark.parametrize("name", ["", " ", "local", "localtime", "Factory", "posixrules",
                                  "/etc/localtime", "../../etc/passwd", "Asia/Nowhere",
                                  "posix/Asia/Kolkata", "Asia/Kolkata\x00", "+05:30", "IST"])
def test_non_iana_names_are_refused(name):
    assert not is_valid_timezone(name)
    with pytest.raises(ValueError, match="IANA"):
        canonical_timezone(name)


@given(st.text(max_size=40))
def test_is_valid_timezone_never_raises(name):
    assert is_valid_timezone(name) in (True, False)


def test_check_student_fills_defaults_and_names_each_bad_field():
    values, errors = check_student({"name": " Amit ", "number": "09113029491",
                                    "country_code": "+91"}, "whatsapp", "Asia/Kolkata")
    assert errors == {}
    assert values == {"name": "Amit", "phone": "+919113029491", "country_code": "+91",
                      "channel": "whatsapp", "timezone": "Asia/Kolkata", "is_subscribed": True}
    _values, errors = check_student({"name": "", "number": "1", "channel": "fax",
                                     "timezone": "Mars/Base", "is_subscribed": "maybe"})
    assert set(errors) == {"name", "number", "channel", "timezone", "is_subscribed"}


def test_check_student_partial_checks_only_given_fields():
    assert check_student({"is_subscribed": "no"}, partial=True) == ({"is_subscribed": False}, {})
    assert check_student({"channel": "WhatsApp"}, partial=True) == ({"channel": "whatsapp"}, {})


def test_a_bad_country_code_is_reported_once_not_also_as_a_bad_number():
    _values, errors = check_student({"name": "A", "number": "9113029491", "country_code": "+999"})
    assert list(errors) == ["country_code"]
