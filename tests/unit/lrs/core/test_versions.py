"""Version negotiation (Communication 3.3; 9274.1.1 §4.1.7; delta V1)."""

import pytest

from lrs.core.versions import UnsupportedVersion, default_statement_version, negotiate


@pytest.mark.parametrize(
    ("header", "served"),
    [
        ("1.0", "1.0.3"),
        ("1.0.0", "1.0.3"),
        ("1.0.1", "1.0.3"),
        ("1.0.2", "1.0.3"),
        ("1.0.3", "1.0.3"),
        ("2.0", "2.0.0"),
        ("2.0.0", "2.0.0"),
        (" 2.0.0 ", "2.0.0"),
    ],
)
def test_supported_headers_are_served_by_their_version(header, served):
    assert negotiate(header) == served


@pytest.mark.parametrize(
    "header", [None, "", "0.9", "0.95", "1.1.0", "2.1.0", "3.0.0", "1.0.3.1", "v1"]
)
def test_missing_or_unsupported_header_is_rejected(header):
    # XAPI-00321/00331: a request without the header is a 400; >= 1.1.0 and >= 2.1.0 likewise.
    with pytest.raises(UnsupportedVersion):
        negotiate(header)


def test_default_statement_version_follows_the_request_version():
    # 9274.1.1 §4.2.4.3: statements without version are 2.0.0 under 2.0; 1.0.0 under 1.0.3.
    assert default_statement_version("2.0.0") == "2.0.0"
    assert default_statement_version("1.0.3") == "1.0.0"
