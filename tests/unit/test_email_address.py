"""Email addresses, pure (issue 12 item 5): a Unicode domain goes out in its ASCII
(IDNA) form; a local part no relay without SMTPUTF8 can take is refused where it is
typed, with a reason in both languages — on the booking form (Q-2, Q-5) and on a
complaint (C-2) alike."""
import pytest
from marshmallow import ValidationError

from services.booking.schemas import BookingRequestSchema
from services.complaints.api import ComplaintBody
from shared.vocabulary.email_address import (INVALID, LOCAL_PART, EmailRefused, normalize_email,
                                             smtp_address)
from shared.vocabulary.errors import reasons_from_marshmallow


def test_addresses_are_kept_as_typed_with_the_domain_in_lower_case():
    assert normalize_email("Leyla@Example.AZ") == "Leyla@example.az"
    assert normalize_email("leyla@BAKI.az") == "leyla@baki.az"
    assert normalize_email("leyla@bakı.az") == "leyla@bakı.az"  # what the person recognises
    assert normalize_email("leyla@xn--bak-lua.az") == "leyla@bakı.az"


@pytest.mark.parametrize("raw", ["not-an-email", "leyla@", "@example.az", "", "a b@example.az"])
def test_an_unreadable_address_is_refused_as_invalid(raw):
    with pytest.raises(EmailRefused) as refused:
        normalize_email(raw)
    assert refused.value.reason is INVALID


@pytest.mark.parametrize("raw", ["ləylə@example.az", "şəhla@bakı.az", "leyla.məmmədova@mail.az"])
def test_a_local_part_that_is_not_ascii_is_refused_with_its_own_reason(raw):
    with pytest.raises(EmailRefused) as refused:
        normalize_email(raw)
    assert refused.value.reason is LOCAL_PART
    assert refused.value.reason.code == "email_local_part"
    assert "@" in refused.value.reason.az and "@" in refused.value.reason.en


@pytest.mark.parametrize("address, ascii_form", [
    ("leyla@bakı.az", "leyla@xn--bak-lua.az"),
    ("Leyla@BAKI.az", "Leyla@baki.az"),
    ("leyla@şəki.gov.az", "leyla@xn--ki-eta41h.gov.az"),
    ("leyla@example.az", "leyla@example.az"),
])
def test_the_smtp_form_has_the_domain_in_ascii(address, ascii_form):
    assert smtp_address(address) == ascii_form
    assert smtp_address(address).isascii()


def test_the_smtp_form_of_an_old_address_with_a_unicode_local_part_converts_the_domain():
    # Queued before the forms refused it: the domain still goes out as IDNA.
    assert smtp_address("ləylə@bakı.az") == "ləylə@xn--bak-lua.az"
    assert smtp_address("not-an-email") == "not-an-email"  # for the relay to refuse


def _reasons(schema, data):
    with pytest.raises(ValidationError) as error:
        schema.load(data)
    return [reason for reason in reasons_from_marshmallow(error.value.messages)
            if reason.field == "email"]


def test_q5_the_booking_form_refuses_a_unicode_local_part_with_the_reason():
    [reason] = _reasons(BookingRequestSchema(), {"email": "ləylə@bakı.az"})
    assert (reason.code, reason.az, reason.en) == ("email_local_part", LOCAL_PART.az,
                                                   LOCAL_PART.en)


def test_q5_the_booking_form_takes_a_unicode_domain():
    assert _reasons(BookingRequestSchema(), {"email": "leyla@bakı.az"}) == []


def test_c2_a_complaint_refuses_a_unicode_local_part_with_the_same_reason():
    [reason] = _reasons(ComplaintBody(), {"service": "fin_lookup", "text": "…",
                                          "email": "ləylə@example.az"})
    assert reason.code == "email_local_part"
    body = ComplaintBody().load({"service": "fin_lookup", "text": "…", "email": "Leyla@BAKI.az"})
    assert body["email"] == "Leyla@baki.az"


def test_q5_a_local_part_over_64_or_an_address_over_254_characters_is_refused():
    """RFC 5321 §4.5.3.1: relays may refuse them; refused on the form, not later where
    nobody sees it."""
    import pytest

    from shared.vocabulary.email_address import EmailRefused, normalize_email

    assert normalize_email("a" * 64 + "@example.az")
    with pytest.raises(EmailRefused) as refused:
        normalize_email("a" * 65 + "@example.az")
    assert refused.value.reason.code == "email_too_long"
    with pytest.raises(EmailRefused):  # over 254 in all
        normalize_email("a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".az")
