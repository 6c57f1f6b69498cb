"""Settings come from flags or the environment; flags win."""

import pytest

from formservice.cli import build_parser, load_config


def test_admin_token_from_a_flag_or_the_environment(monkeypatch):
    monkeypatch.setenv("FORMSERVICE_ADMIN_TOKEN", "from-the-environment-0123")
    args = build_parser().parse_args(["serve"])
    assert load_config(args).admin_token == "from-the-environment-0123"
    args = build_parser().parse_args(["serve", "--admin-token", "from-a-flag-0123456789"])
    assert load_config(args).admin_token == "from-a-flag-0123456789"


def test_a_short_admin_token_is_refused():
    args = build_parser().parse_args(["serve", "--admin-token", "short"])
    with pytest.raises(ValueError, match="at least 16"):
        load_config(args)
