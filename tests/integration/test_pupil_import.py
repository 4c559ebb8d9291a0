"""Importing pupils from a school administration's CSV export: read as exported, checked row by row, all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from models.tables import Parent, Pupil
from oja import services as sv
from oja.adapters.db import get_engine, unit_of_work
from oja.config import get_settings
from oja.services.pupil_import import (
    MAX_BYTES,
    MAX_ROWS,
    Preview,
    PupilImportRefused,
    check_pupils,
    import_pupils,
    parse_pupils_csv,
)
from tests.factories import valid_bsn

TODAY = dt.date(2026, 3, 2)
ONDERWIJSNUMMERS = ("100000004", "100000016", "100000028")  # valid: they start with 10 and pass the eleven-test


def bsn(i: int) -> str:
    return valid_bsn(i, base=200_000_000)


def csv_bytes(*lines: str, encoding: str = "utf-8", newline: str = "\r\n") -> bytes:
    return newline.join(lines).encode(encoding)


def preview(engine, data: bytes, school_code: str | None = None) -> Preview:
    with Session(engine) as s:
        return check_pupils(s, parse_pupils_csv(data), today=TODAY, school_code=school_code)


def import_(engine, data: bytes, school_code: str | None = None) -> list[str]:
    with unit_of_work(engine) as s:
        return import_pupils(s, parse_pupils_csv(data), today=TODAY, school_code=school_code)


def counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Pupil)).one(), s.exec(
            select(func.count()).select_from(Parent)
        ).one()


def errors(result: Preview) -> set[tuple[int | None, str]]:
    return {(p.line, p.field) for p in result.all_problems}


DUTCH_HEADER = "Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;BRIN;Gemeente;BSN;Onderwijsnummer;Ouder 1;Ouder 2;Klas"


def test_a_dutch_excel_export_with_semicolons_tussenvoegsels_and_dutch_dates_is_imported(engine):
    data = csv_bytes(
        DUTCH_HEADER,
        f"Eva;de;Vries;4-3-2014;40ab;0164;{bsn(1)};;Anna de Vries;Piet de Vries;5a",
        f"Ties;;Bloem;04/03/2013;40AB;GM0164;;{ONDERWIJSNUMMERS[0]};;;6b",
        f"Roel;van der;Dam;2012-11-30;40AB;GM0164;{bsn(2)[:3]} {bsn(2)[3:6]} {bsn(2)[6:]};;Els;;7",
    )
    parsed = parse_pupils_csv(data)
    assert (parsed.delimiter, parsed.problems, parsed.ignored) == (";", (), ("Klas",))
    assert parsed.columns["given_name"] == "Roepnaam" and parsed.columns["family_name"] == "Achternaam"
    shown = preview(engine, data)
    assert shown.ok and (shown.ok_count, shown.bad_count) == (3, 0)
    eva = shown.rows[0]
    assert (eva.line, eva.given_name, eva.family_name, eva.birth_date) == (2, "Eva", "de Vries", dt.date(2014, 3, 4))
    assert (eva.school_code, eva.municipality_code, eva.parents) == (
        "40AB",
        "GM0164",
        ("Anna de Vries", "Piet de Vries"),
    )
    assert eva.bsn == "*****" + bsn(1)[-4:] and shown.rows[1].onderwijsnummer == "*****" + ONDERWIJSNUMMERS[0][-4:]
    assert counts(engine) == (0, 0)  # the preview wrote nothing

    refs = import_(engine, data)
    assert len(refs) == 3 and len(set(refs)) == 3
    with Session(engine) as s:
        pupils = {p.ref: p for p in s.exec(select(Pupil)).all()}
        got = [(pupils[r].family_name, pupils[r].birth_date, pupils[r].bsn, pupils[r].onderwijsnummer) for r in refs]
        assert got == [
            ("de Vries", dt.date(2014, 3, 4), bsn(1), None),
            ("Bloem", dt.date(2013, 3, 4), None, ONDERWIJSNUMMERS[0]),
            ("van der Dam", dt.date(2012, 11, 30), bsn(2), None),
        ]
        parents = s.exec(select(Parent.name).where(Parent.pupil_id == pupils[refs[0]].id)).all()
        assert sorted(parents) == ["Anna de Vries", "Piet de Vries"]
    assert counts(engine) == (3, 3)


def test_a_windows_1252_file_from_excel_keeps_its_accents(engine):
    data = csv_bytes(
        "Voornaam;Achternaam;Geboortedatum;Schoolcode;Gemeentecode;BSN;Ouder 1",
        f"Zoë;Çelik;1-9-2015;40AB;GM0164;{bsn(3)};Ayla Çelik",
        f"Daniëlle;O’Brüggen;12-12-2014;40AB;GM0164;{bsn(4)};",  # ’ is 0x92: Windows-1252, not Latin-1
        encoding="cp1252",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = parse_pupils_csv(data)
    assert parsed.encoding == "cp1252" and parsed.problems == ()
    import_(engine, data)
    with Session(engine) as s:
        names = s.exec(select(Pupil.given_name, Pupil.family_name).order_by(Pupil.id)).all()
    assert [tuple(n) for n in names] == [("Zoë", "Çelik"), ("Daniëlle", "O’Brüggen")]


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""])
def test_utf8_with_or_without_a_byte_order_mark_and_english_headers(engine, bom):
    data = bom + csv_bytes(
        "given_name,family_name,birth_date,school_code,municipality_code,bsn,onderwijsnummer,parent_1,parent_2",
        f"Zoë,Jansen,2014-05-06,40AB,GM0164,{bsn(5)},,,",
        newline="\n",
    )
    parsed = parse_pupils_csv(data)
    assert parsed.problems == () and parsed.delimiter == ","
    assert parsed.columns["given_name"] == "given_name"  # the BOM is not part of the first column's name
    assert [r.values["given_name"] for r in parsed.rows] == ["Zoë"]  # UTF-8, not read as Windows-1252
    assert preview(engine, data).ok


def test_every_bad_row_is_reported_with_its_line_and_field_and_the_good_rows_counted(engine):
    header = "Roepnaam;Achternaam;Geboortedatum;BRIN;Gemeentecode;BSN;Onderwijsnummer;Ouder 1"
    data = csv_bytes(
        header,  # line 1
        f"Eva;Aarts;4-3-2014;40AB;GM0164;{bsn(10)};;",  # 2: good
        "Ties;Bloem;31-02-2014;40AB;GM0164;123456789;;",  # 3: no such date; BSN fails the eleven-test
        "",  # 4: blank, skipped but counted
        f"Roel;Claes;4-3-2014;99ZZ;GM0999;{bsn(11)};;",  # 5: unknown school and municipality
        f';Dekker;4-3-2014;40AB;GM0164;{bsn(12)};;"Ouder\nop twee regels"',  # 6-7: no given name; a control character
        f"Fien;Eek;4-3-2030;40AB;GM0164;{bsn(13)};;",  # 8: born in the future
        "Gijs;Faber;4-3-2014;40AB;GM0164;;;",  # 9: neither a BSN nor an onderwijsnummer
        f"Hanna;Gerrits;2014-3-4;40AB;GM0164;;{ONDERWIJSNUMMERS[1][:-1]}7;",  # 10: onderwijsnummer checksum
        f"Ivo;Hendriks;4-3-14;40AB;GM0164;{bsn(14)};;",  # 11: a two-digit year
        f"Jet;Ilsink;4-3-2014;40AB;GM0164;{bsn(15)};;",  # 12: good
    )
    shown = preview(engine, data)
    assert [r.line for r in shown.rows] == [2, 3, 5, 6, 8, 9, 10, 11, 12]
    assert (shown.ok_count, shown.bad_count, shown.ok) == (2, 7, False)
    assert errors(shown) == {
        (3, "birth_date"),
        (3, "bsn"),
        (5, "school_code"),
        (5, "municipality_code"),
        (6, "given_name"),
        (6, "parent_1"),
        (8, "birth_date"),
        (9, "bsn"),
        (10, "onderwijsnummer"),
        (11, "birth_date"),
    }
    texts = [str(p) for p in shown.all_problems]
    assert "regel 8: Geboortedatum: een geboortedatum mag niet in de toekomst liggen" in texts
    assert "regel 5: BRIN: school '99ZZ' is niet bekend" in texts
    assert all("123456789" not in p.rule for p in shown.all_problems)  # a refused number is never repeated
    with pytest.raises(PupilImportRefused) as refused:
        import_(engine, data)
    assert {(p.line, p.field) for p in refused.value.problems} == errors(shown)
    assert counts(engine) == (0, 0)


def test_a_bsn_twice_in_the_file_or_already_registered_is_an_error_on_each_of_its_rows(engine):
    with unit_of_work(engine) as s:
        sv.register_pupil(
            s, given_name="Al", family_name="Bekend", birth_date=dt.date(2013, 1, 1), school_code="40AB",
            municipality_code="GM0164", bsn=bsn(20), onderwijsnummer=None, today=TODAY,
        )  # fmt: skip
    header = "Roepnaam;Achternaam;Geboortedatum;BRIN;Gemeentecode;BSN;Onderwijsnummer"
    spaced = f"{bsn(21)[:3]} {bsn(21)[3:6]} {bsn(21)[6:]}"
    data = csv_bytes(
        header,
        f"Eva;Aarts;4-3-2014;40AB;GM0164;{bsn(21)};",  # 2: the same BSN as line 4
        f"Ties;Bloem;4-3-2014;40AB;GM0164;{bsn(20)};",  # 3: registered already
        f"Roel;Claes;4-3-2014;40AB;GM0164;{spaced};",  # 4: the same BSN as line 2, written with spaces
        f"Fien;Dekker;4-3-2014;40AB;GM0164;;{ONDERWIJSNUMMERS[2]}",  # 5: the same onderwijsnummer as line 6
        f"Gijs;Eek;4-3-2014;40AB;GM0164;;{ONDERWIJSNUMMERS[2]}",  # 6
        f"Jet;Faber;4-3-2014;40AB;GM0164;{bsn(22)};",  # 7: good
    )
    shown = preview(engine, data)
    assert errors(shown) == {(2, "bsn"), (3, "bsn"), (4, "bsn"), (5, "onderwijsnummer"), (6, "onderwijsnummer")}
    rules = {p.line: p.rule for p in shown.all_problems}
    assert rules[2] == "hetzelfde nummer staat ook op regel 4 van dit bestand"
    assert rules[4] == "hetzelfde nummer staat ook op regel 2 van dit bestand"
    assert rules[3] == "er is al een leerling met dit BSN geregistreerd"
    assert rules[6] == "hetzelfde nummer staat ook op regel 5 van dit bestand"
    assert shown.ok_count == 1
    with pytest.raises(PupilImportRefused):
        import_(engine, data)
    assert counts(engine) == (1, 0)


def test_one_bad_row_and_nothing_is_written_even_when_the_caller_goes_on_and_commits(engine):
    header = "Roepnaam;Achternaam;Geboortedatum;BRIN;Gemeentecode;BSN;Ouder 1"
    good = [f"Kind{i};Goed;4-3-2014;40AB;GM0164;{bsn(30 + i)};Ouder {i}" for i in range(5)]
    data = csv_bytes(header, *good, "Laatste;Fout;4-3-2014;40AB;GM0164;123456789;")
    parsed = parse_pupils_csv(data)
    with unit_of_work(engine) as s:
        with pytest.raises(PupilImportRefused) as refused:
            import_pupils(s, parsed, today=TODAY)
        # the caller carries on in the same transaction: the good rows before the bad one were not left behind
        sv.register_pupil(
            s, given_name="Los", family_name="Erbij", birth_date=dt.date(2013, 1, 1), school_code="40AB",
            municipality_code="GM0164", bsn=bsn(41), today=TODAY,
        )  # fmt: skip
    assert [(p.line, p.field) for p in refused.value.problems] == [(7, "bsn")]
    assert refused.value.field == "bestand" and "niets geïmporteerd" in refused.value.rule
    assert counts(engine) == (1, 0)
    fixed = parse_pupils_csv(csv_bytes(header, *good))
    with unit_of_work(engine) as s:
        assert len(import_pupils(s, fixed, today=TODAY)) == 5
    assert counts(engine) == (6, 5)


def test_a_coordinator_imports_only_pupils_of_their_own_school(engine):
    with unit_of_work(engine) as s:
        sv.upsert_school(s, code="41CD", name="Andere School", holiday_region="noord", municipality_code="GM0164")
    header = "Roepnaam;Achternaam;Geboortedatum;BRIN;Gemeentecode;BSN"
    data = csv_bytes(
        header,
        f"Eva;Aarts;4-3-2014;40AB;GM0164;{bsn(50)}",
        f"Ties;Bloem;4-3-2014;41CD;GM0164;{bsn(51)}",  # another school
        f"Roel;Claes;4-3-2014;;GM0164;{bsn(52)}",  # no school: the coordinator's
    )
    shown = preview(engine, data, school_code="40AB")
    assert errors(shown) == {(3, "school_code")}
    assert shown.all_problems[0].rule == "u kunt alleen leerlingen van school 40AB importeren"
    assert shown.rows[2].school_code == "40AB" and shown.rows[2].ok
    assert errors(preview(engine, data, school_code=None)) == {(4, "school_code")}  # an operator names the school
    assert preview(engine, data, school_code="41cd").ok_count == 2
    with pytest.raises(PupilImportRefused):
        import_(engine, data, school_code="40AB")
    assert counts(engine) == (0, 0)

    without_school_column = csv_bytes(
        "Roepnaam;Achternaam;Geboortedatum;Gemeentecode;BSN", f"Fien;Dekker;4-3-2014;GM0164;{bsn(53)}"
    )
    refs = import_(engine, without_school_column, school_code="40AB")
    with Session(engine) as s:
        assert s.exec(select(Pupil.school_code).where(Pupil.ref == refs[0])).one() == "40AB"


def test_a_missing_column_is_a_header_error_naming_it_in_dutch():
    parsed = parse_pupils_csv(csv_bytes("Roepnaam;Achternaam;BRIN;Gemeente;BSN", f"Eva;Aarts;40AB;GM0164;{bsn(60)}"))
    assert parsed.rows == ()
    assert [(p.line, p.field) for p in parsed.problems] == [(1, "header")]
    assert "geboortedatum" in parsed.problems[0].rule and "ontbreekt" in parsed.problems[0].rule
    no_number = parse_pupils_csv(csv_bytes("Roepnaam;Achternaam;Geboortedatum;Gemeente", "Eva;Aarts;4-3-2014;GM0164"))
    assert ["bsn" in p.rule for p in no_number.problems] == [True]
    twice = parse_pupils_csv(csv_bytes("Roepnaam;Achternaam;Geboortedatum;Gemeente;BSN;bsn", "a;b;1-1-2014;GM0164;;"))
    assert ["meer dan eens" in p.rule for p in twice.problems] == [True]


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "leeg"),
        (b"\n \n", "leeg"),
        (b"Roepnaam;Achternaam;Geboortedatum;Gemeente;BSN\n", "geen leerlingen"),
        (b"\x81\x8d\x8f\x90\x9d", "geen tekst"),
        (b"x" * (MAX_BYTES + 1), "groter dan 2 MB"),
    ],
)
def test_a_file_that_cannot_be_imported_says_why(data, rule):
    parsed = parse_pupils_csv(data)
    assert parsed.rows == () and len(parsed.problems) == 1
    assert parsed.problems[0].field == "bestand" and rule in parsed.problems[0].rule


def test_at_most_5000_pupils_in_one_file():
    header = "Roepnaam;Achternaam;Geboortedatum;Gemeente;BSN"
    assert len(parse_pupils_csv(csv_bytes(header, *["a;b;1-1-2014;GM0164;"] * MAX_ROWS)).rows) == MAX_ROWS
    parsed = parse_pupils_csv(csv_bytes(header, *["a;b;1-1-2014;GM0164;"] * (MAX_ROWS + 1)))
    assert parsed.rows == () and "meer dan 5000" in parsed.problems[0].rule


def test_more_values_than_columns_is_an_error_of_that_row_and_excels_sep_line_is_understood(engine):
    data = csv_bytes(
        "sep=,",
        "Roepnaam,Achternaam,Geboortedatum,BRIN,Gemeente,BSN",
        f"Eva,de Vries, Jansen,4-3-2014,40AB,GM0164,{bsn(70)}",  # a comma in the family name, not quoted
        f'Ties,"de Vries, Jansen",4-3-2014,40AB,GM0164,{bsn(71)},,',  # quoted; empty trailing cells are fine
    )
    shown = preview(engine, data)
    assert [r.line for r in shown.rows] == [3, 4]
    assert (3, "regel") in errors(shown) and shown.rows[1].ok and shown.rows[1].family_name == "de Vries, Jansen"


# A CSV-like file: a header of known columns (now and then one missing, or one not known), rows of right values
# (a BSN repeated, or registered already) or of right, wrong and any text; quoted or not, any delimiter and encoding.
GOOD = {
    "Roepnaam": ["Eva", "Zoë"],
    "Tussenvoegsel": ["de", "van der", ""],
    "Achternaam": ["Vries", "O’Brien"],
    "Geboortedatum": ["4-3-2014", "2014-03-04", "04/03/2013"],
    "BRIN": ["40AB", "40ab"],
    "Gemeente": ["GM0164", "0164"],
    "BSN": [bsn(80), bsn(81), bsn(81)[:3] + " " + bsn(81)[3:], bsn(82), ""],  # bsn(82) is registered
    "Onderwijsnummer": [*ONDERWIJSNUMMERS, ""],
    "Ouder 1": ["Anna", ""],
    "klas": ["5a", ""],
}
WRONG = {"Roepnaam": [" "], "Geboortedatum": ["31-2-2014", "1-1-2030", "4-3-14"], "BRIN": ["99ZZ", "", "@"]}
WRONG |= {"Gemeente": ["GM0999", "Hengelo"], "BSN": ["123456789", "-1"], "Onderwijsnummer": ["100000017"]}
WRONG |= {"Ouder 1": ["\x00"]}


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    names = draw(st.permutations(list(GOOD)))[: draw(st.sampled_from([len(GOOD), len(GOOD), len(GOOD) - 1]))]
    good = st.tuples(*[st.sampled_from(GOOD[n]) for n in names])
    wrong = [st.sampled_from(GOOD[n] + WRONG.get(n, [])) | st.text(max_size=8) for n in names]
    rows = draw(st.lists(good, min_size=1, max_size=4) | st.lists(good | st.tuples(*wrong), min_size=1, max_size=5))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    quote = draw(st.sampled_from(["", '"']))
    lines = [delimiter.join(names), *(delimiter.join(quote + c + quote for c in row) for row in rows)]
    return "\n".join(lines).encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])), "replace")


@pytest.fixture
def registered(engine):
    """One pupil in the database already, with a BSN the generated files use."""
    with unit_of_work(engine) as s:
        sv.register_pupil(
            s, given_name="Al", family_name="Bekend", birth_date=dt.date(2013, 1, 1), school_code="40AB",
            municipality_code="GM0164", bsn=bsn(82), today=TODAY,
        )  # fmt: skip
    return engine


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(csv_like(), st.binary(max_size=400)), school=st.sampled_from([None, "40AB", "41cd"]))
def test_a_preview_never_raises_writes_nothing_and_agrees_with_the_import(registered, data, school):
    parsed = parse_pupils_csv(data)
    with Session(registered) as s:
        shown = check_pupils(s, parsed, today=TODAY, school_code=school)
        assert s.exec(select(func.count()).select_from(Pupil)).one() == 1
        assert len(shown.rows) == len(parsed.rows) and all(p.line == r.line for r in shown.rows for p in r.errors)
        try:
            refs = import_pupils(s, parsed, today=TODAY, school_code=school)
        except PupilImportRefused as refused:
            assert not shown.ok and refused.problems == shown.all_problems
        else:
            assert shown.ok and len(refs) == len(parsed.rows)
        s.rollback()
    assert counts(registered) == (1, 0)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("OJA_HOME", str(tmp_path))
    monkeypatch.delenv("OJA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_engine(get_settings().effective_database_url).dispose()
    get_settings.cache_clear()


def test_the_cli_prints_every_bad_row_then_nothing_imported_and_otherwise_each_rows_reference(home, tmp_path):
    from oja.entrypoints.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["demo"]).exit_code == 0
    file = tmp_path / "export.csv"
    lines = ["Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;BRIN;Gemeente;BSN;Ouder [1]"]
    lines += [f"Eva;de;Vries;4-3-2014;10HV;0164;{bsn(90)};Anna", f"Ties;;Bloem;31-2-2014;10HV;GM0164;{bsn(91)};"]
    lines += [f"Roel;;Claes;4-3-2014;99ZZ;GM0164;{bsn(92)};"]
    file.write_bytes(csv_bytes(*lines, encoding="cp1252"))
    with Session(get_engine()) as s:
        before = s.exec(select(func.count()).select_from(Pupil)).one()
    result = runner.invoke(app, ["pupil", "import", str(file)])
    assert result.exit_code == 2
    assert "regel 3: Geboortedatum: moet een datum zijn" in result.output
    assert "regel 4: BRIN: school '99ZZ' is niet bekend" in result.output
    assert "niets geïmporteerd" in result.output and "regel 2" not in result.output
    file.write_bytes(csv_bytes(lines[0], lines[1], encoding="cp1252"))
    result = runner.invoke(app, ["pupil", "import", str(file)])
    assert result.exit_code == 0, result.output
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Pupil)).one() == before + 1
        ref = s.exec(select(Pupil.ref).where(Pupil.bsn == bsn(90))).one()
    assert f"regel 2: {ref}" in result.output
