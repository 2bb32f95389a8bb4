"""The contract checker itself: it knows Twilio's Messages API and catches what Twilio
would refuse (the same checks run after every test of this folder, on every request)."""

from __future__ import annotations

from tests.whatsapp import contract

PATH = "/2010-04-01/Accounts/AC" + "0" * 32 + "/Messages.json"


def form(**fields: str) -> dict[str, list[str]]:
    return {name: [value] for name, value in fields.items()}


def test_a_valid_free_text_message() -> None:
    assert (
        contract.problems(
            "POST",
            PATH,
            form(
                To="whatsapp:+212612345678",
                From="whatsapp:+14155238886",
                Body="Bonjour",
                StatusCallback="https://bot.example.org/whatsapp/status",
            ),
        )
        == []
    )


def test_a_valid_template_message() -> None:
    assert (
        contract.problems(
            "POST",
            PATH,
            form(
                To="whatsapp:+212612345678",
                MessagingServiceSid="MG" + "a" * 32,
                ContentSid="HX" + "1" * 32,
                ContentVariables='{"1": "x"}',
            ),
        )
        == []
    )


def test_a_bad_content_sid_is_caught() -> None:
    found = contract.problems(
        "POST", PATH, form(To="whatsapp:+212612345678", From="whatsapp:+1", ContentSid="HX12")
    )
    assert any("ContentSid" in problem for problem in found)


def test_x_twilio_conditionals_are_enforced() -> None:
    found = contract.problems("POST", PATH, form(To="whatsapp:+212612345678"))
    assert "one of ['from', 'messaging_service_sid'] is required (x-twilio conditional)" in found
    assert any("'body', 'media_url', 'content_sid'" in problem for problem in found)


def test_unknown_fields_and_paths_are_caught() -> None:
    found = contract.problems("POST", PATH, form(To="x", From="y", Body="z", Text="z"))
    assert found == ["Text: not a field of CreateMessage"]
    try:
        contract.problems("POST", "/2010-04-01/Messages.json", {})
    except AssertionError as error:
        assert "not an operation" in str(error)
    else:
        raise AssertionError("an unknown path passed")


def test_a_bad_account_sid_in_the_path_is_caught() -> None:
    found = contract.problems(
        "POST", "/2010-04-01/Accounts/XX1/Messages.json", form(To="x", From="y", Body="z")
    )
    assert any("AccountSid" in problem for problem in found)
