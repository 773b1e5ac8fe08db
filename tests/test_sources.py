"""The ``--source-map`` file is read strictly (each mistake one line naming it) and a copy's source record reads back
as the report's sentence, without the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from balance_bench.errors import BenchError
from balance_bench.sources import SourceMap, SourceRecord, read_source_map, source_sentence


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Maps are named as a user would, relative to the working directory."""
    monkeypatch.chdir(tmp_path)


def _map(tmp_path: Path, text: str) -> Path:
    (tmp_path / "map.toml").write_text(text, encoding="utf-8")
    return Path("map.toml")


def test_a_map_renames_only_what_it_names(tmp_path: Path) -> None:
    """Named tables and columns map to the source's names; everything else keeps the model's name."""
    found = read_source_map(_map(tmp_path, '[tables]\nbalances = "app.wallet_balances"\n'
                                           '[columns.balances]\namount = "bal"\n'))
    assert found == SourceMap("map.toml", (("balances", "app.wallet_balances"),), (("balances", "amount", "bal"),))
    assert (found.table("balances"), found.table("users")) == ("app.wallet_balances", "users")
    assert (found.column("balances", "amount"), found.column("balances", "address")) == ("bal", "address")
    assert found.renames() == {"tables": {"balances": "app.wallet_balances"},
                               "columns": {"balances": {"amount": "bal"}}}


@pytest.mark.parametrize(("text", "message"), [
    ("[tables\nbalances = 1", "--source-map map.toml: not valid TOML: "),
    ('owner = "me"', "--source-map map.toml: unknown key 'owner': it takes [tables] and [columns.TABLE]"),
    ('[tables]\nwallets = "w"', "--source-map map.toml: [tables]: unknown key 'wallets': the model's tables are "),
    ('[columns.wallets]\namount = "bal"', "--source-map map.toml: unknown section [columns.wallets]: the model's "),
    ('[columns.balances]\namt = "bal"', "--source-map map.toml: [columns.balances]: unknown key 'amt': the model's "
                                        "columns are id, user_id, token_id, address, amount"),
    ("[tables]\nbalances = 3", "--source-map map.toml: [tables]: balances must name the source's table in quotes"),
    ('tables = "balances"', "--source-map map.toml: [tables] must be a table of table names"),
])
def test_each_mistake_in_a_map_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    """Malformed TOML, an unknown key, table or column, or a value that is not a name: one line saying which."""
    with pytest.raises(BenchError) as err:
        read_source_map(_map(tmp_path, text))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_missing_map_file_is_one_line() -> None:
    """A map that cannot be read names the file and why."""
    with pytest.raises(BenchError, match=r"^--source-map nowhere.toml: cannot read it: No such file"):
        read_source_map(Path("nowhere.toml"))


RECORD = SourceRecord("postgresql://me:s3cret@db.example:5432/prod", "prod", "2026-01-02T03:04:05+00:00",
                      {"users": 2000, "tokens": 50, "balances": 9000}, {"users": 1003, "tokens": 50, "balances": 4400},
                      0.5, "map.toml")


def test_a_source_record_reads_back_as_one_sentence_without_the_password() -> None:
    """What the report says: where from, when, how many of how many users, the sample and the map."""
    described = RECORD.describe()
    assert "s3cret" not in str(described) and SourceRecord.from_dict(described).sentence() == (
        "data copied from postgresql://me:***@db.example:5432/prod at 2026-01-02T03:04:05+00:00, 1,003 of 2,000 "
        "users (sample 0.5), mapped by map.toml")


@pytest.mark.parametrize("raw", [None, "a string", {"url": "x"}, {**RECORD.describe(), "rows_copied": 3}])
def test_anything_but_a_source_record_has_no_sentence(raw: object) -> None:
    """An old run has no source, a damaged one is not read as one: the report then shows what is there."""
    assert source_sentence(raw) is None
