"""A corpus of planted personal data: every value is found, clean text stays clean, and
``qcode redact`` and ``qcode check-privacy`` agree line by line on every file (issue 14)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qcode.cli import cli
from qcode.privacy import Redactor

#: (sentence, values planted in it). Written for this test; fictional people and numbers.
PLANTED = [
    # first name + surname, anywhere in a sentence
    ("Jag ringde Jonas Berg på måndagen.", ["Jonas Berg"]),
    ("Hon hette Maria Johansson och kom från Alvesta.", ["Maria Johansson"]),
    ("Vi träffade Ahmed Hassan på mottagningen.", ["Ahmed Hassan"]),
    ("Det var Ingrid Holm som tog emot anmälan.", ["Ingrid Holm"]),
    ("Sedan kom Tobias Lindqvist in i rummet.", ["Tobias Lindqvist"]),
    ("Samtalet leddes av Katarina Ekström.", ["Katarina Ekström"]),
    ("Min kontakt på länsstyrelsen är Gunnel Åberg.", ["Gunnel Åberg"]),
    ("Ärendet låg hos Olena Kovalenko i flera veckor.", ["Olena Kovalenko"]),
    ("Tolken, Dragan Petrović, översatte allt.", ["Dragan Petrović"]),
    ("Flickan kallade sig Ayan Warsame.", ["Ayan Warsame"]),
    ("Vi skickade det till Piotr Nowak samma dag.", ["Piotr Nowak"]),
    ("Det var Fatima Osman som ringde.", ["Fatima Osman"]),
    ("Mannen presenterade sig som Mihai Popescu.", ["Mihai Popescu"]),
    ("Handlingen skrevs av Lisbeth Sandin.", ["Lisbeth Sandin"]),
    ("Hon bodde hos Svetlana Ivanova en tid.", ["Svetlana Ivanova"]),
    ("Jag minns att Grace Okafor sa det.", ["Okafor"]),
    # at the start of a sentence or a line
    ("Maria Johansson sa att det inte gick.", ["Maria Johansson"]),
    ("Lena ringde mig i går.", ["Lena"]),
    ("Per Holm var den som visste mest.", ["Per Holm"]),
    ("Björn Andersson hade jour den natten.", ["Björn Andersson"]),
    ("Kerstin och jag åkte dit tillsammans.", ["Kerstin"]),
    ("Sofia tyckte att vi skulle vänta.", ["Sofia"]),
    # a first name alone, mid-sentence
    ("Jag pratade med Lena på soc om saken.", ["Lena"]),
    ("Sen sa Mats att vi fick släppa det.", ["Mats"]),
    ("Vi frågade Emma, men hon visste inte.", ["Emma"]),
    ("Det var bara Olle som förstod.", ["Olle"]),
    ("Både Anders och Birgitta var med.", ["Anders", "Birgitta"]),
    ("Jag, Malin och Johan satt kvar.", ["Malin", "Johan"]),
    ("Ring Tindra innan fem.", ["Tindra"]),
    ("Hon bad att få prata med Zeynep.", ["Zeynep"]),
    ("Vi kallade honom bara Kalle.", ["Kalle"]),
    ("Det var Inga och Hans som kom.", ["Inga", "Hans"]),
    # double and hyphenated first names
    ("Anna-Karin Lundgren ledde gruppen.", ["Anna-Karin Lundgren"]),
    ("Det var Per-Olof som bestämde.", ["Per-Olof"]),
    ("Ann-Marie Sjöberg skrev protokollet.", ["Ann-Marie Sjöberg"]),
    ("Vi mötte Eva Maria Nyström på tåget.", ["Eva Maria Nyström"]),
    # surnames alone (endings, the list)
    ("Vi ringde Karlsson direkt.", ["Karlsson"]),
    ("Enligt Nyström fanns det fler.", ["Nyström"]),
    ("Det var Bergqvist som skrev beslutet.", ["Bergqvist"]),
    ("Jag hörde det från Lindgren.", ["Lindgren"]),
    ("Vi skickade ärendet vidare till Sandberg.", ["Sandberg"]),
    ("Det tyckte i alla fall Wallin.", ["Wallin"]),
    ("Hon hade pratat med Östlund om det.", ["Östlund"]),
    ("Jag vet att Hedlund var emot.", ["Hedlund"]),
    ("Efter mötet ringde Mohammadi tillbaka.", ["Mohammadi"]),
    ("Beslutet fattades av Zetterberg.", ["Zetterberg"]),
    ("Det var Almqvist som hade nycklarna.", ["Almqvist"]),
    ("Hon flyttade till Forsgrens lägenhet.", ["Forsgrens"]),
    # titles, roles and relations
    ("Chefen Lars Nilsson ville inte svara.", ["Lars Nilsson"]),
    ("Sen kom chefen Holm in.", ["Holm"]),
    ("Jag pratade med kollegan Berg om det.", ["Berg"]),
    ("Handläggaren Okafor tog ärendet.", ["Okafor"]),
    ("Vi fick hjälp av tolken Haddad.", ["Haddad"]),
    ("Det var åklagaren Strand som beslutade.", ["Strand"]),
    ("Hennes pojkvän, pojkvännen Marko, körde bilen.", ["Marko"]),
    ("Hon bodde hos kusinen Dalia i Växjö.", ["Dalia"]),
    ("Kuratorn Vendela hade träffat henne.", ["Vendela"]),
    ("Ägaren Reza betalade kontant.", ["Reza"]),
    ("Grannen Falk såg allt.", ["Falk"]),
    ("Doktor Lind skrev intyget.", ["Lind"]),
    ("Fru Ekman ringde på morgonen.", ["Ekman"]),
    ("Kommissarie Borg tog över.", ["Borg"]),
    ("Jag frågade inspektör Lund om saken.", ["Lund"]),
    ("Kunden Stefan betalade i förväg.", ["Stefan"]),
    # genitive
    ("Nilssons bil stod utanför.", ["Nilssons"]),
    ("Annas telefon var avstängd.", ["Annas"]),
    ("Vi lånade Lindbergs kontor.", ["Lindbergs"]),
    ("Det var Jonas Bergs idé.", ["Jonas Bergs"]),
    ("Hon bodde i Mohammeds lägenhet.", ["Mohammeds"]),
    # capitals and speaker-like lines
    ("ANNA SVENSSON: Jag vet inte.", ["ANNA SVENSSON"]),
    ("Intervju med KARIN LUNDBERG, mars 2010.", ["KARIN LUNDBERG"]),
    # quoted and bracketed
    ('Hon sa: "Jonas vet var de bor."', ["Jonas"]),
    ("Mannen (Dragan) körde henne dit.", ["Dragan"]),
    ("Det stod »Elin Ström« på dörren.", ["Elin Ström"]),
    # personnummer and samordningsnummer
    ("Hon har personnummer 811218-9876.", ["811218-9876"]),
    ("Numret var 8112189876 i journalen.", ["8112189876"]),
    ("Födelsenumret 19811218-9876 stod i akten.", ["19811218-9876"]),
    ("Han var född 198112189876 enligt passet.", ["198112189876"]),
    ("Personen 811218+9876 är över hundra år.", ["811218+9876"]),
    ("Samordningsnumret 811278-9873 gavs ut.", ["811278-9873"]),
    ("Med mellanslag: 811218 9876 i registret.", ["811218 9876"]),
    ("Ett annat nummer, 19640823-3234, fanns också.", ["19640823-3234"]),
    # phone numbers
    ("Ring 070-123 45 67 efter lunch.", ["070-123 45 67"]),
    ("Mobilen är 0701234567.", ["0701234567"]),
    ("Från utlandet: +46 70 123 45 67.", ["+46 70 123 45 67"]),
    ("Eller 0046701234567 om det inte går.", ["0046701234567"]),
    ("Växeln har 0470-123 45.", ["0470-123 45"]),
    ("Stockholmskontoret nås på 08-123 456 78.", ["08-123 456 78"]),
    ("Göteborg: 031-12 34 56, fråga efter jouren.", ["031-12 34 56"]),
    ("Jourtelefonen 073-987 65 43 är öppen dygnet runt.", ["073-987 65 43"]),
    ("Skriv +46 (0)76 555 12 34 på lappen.", ["+46 (0)76 555 12 34"]),
    ("Hennes nummer var 076-555 12 34.", ["076-555 12 34"]),
    # e-mail
    ("Mejla anna.berg@kommun.example.se i stället.", ["anna.berg@kommun.example.se"]),
    ("Adressen är jour@example.org.", ["jour@example.org"]),
    (
        "Skriv till k.nilsson+arende@post.region.example.se.",
        ["k.nilsson+arende@post.region.example.se"],
    ),
    # street addresses and postcodes
    ("Hon bodde på Storgatan 12 i Växjö.", ["Storgatan 12"]),
    ("Lägenheten låg på Linnévägen 4B.", ["Linnévägen 4B"]),
    ("Kom till Kyrkogränd 3, 352 30 Växjö.", ["Kyrkogränd 3, 352 30 Växjö"]),
    ("De höll till på Björkstigen 17.", ["Björkstigen 17"]),
    ("Mötet var på Stortorget 1.", ["Stortorget 1"]),
    ("Huset på Kvarnbacken 22 var tomt.", ["Kvarnbacken 22"]),
    ("Paketet gick till 341 31 Ljungby.", ["341 31 Ljungby"]),
    ("Postadressen är Box 12, 351 04 Växjö.", ["351 04 Växjö"]),
    # car registration plates
    ("Bilen hade nummer ABC 123.", ["ABC 123"]),
    ("En vit skåpbil, KLM 45X, stod utanför.", ["KLM 45X"]),
    ("Vi noterade regnumret TRU123.", ["TRU123"]),
]

#: ordinary Swedish text with capitalised words that are not people.
CLEAN = [
    "Hälso- och sjukvårdsdirektör, Landstinget Kronoberg.",
    "Polisen i Kronobergs län har ingen handlingsplan.",
    "Migrationsverket har boenden här i närheten.",
    "Det händer i Stockholm och Växjö, per vecka.",
    "Björn sov. Per timme tar de 500 kr.",
    "Vi åkte till Falkenberg och Helsingborg.",
    "Socialtjänsten i Ljungby kontaktade Länsstyrelsen.",
    "Svenska kyrkan, församling i Kronobergs län.",
    "Röda Korset och Rädda Barnen var med i nätverket.",
    "Hon kom från Västafrika och skulle vidare till Danmark.",
    "Kvinnojouren i Växjö har öppet på torsdagar.",
    "Rikskriminalpolisen skickade en rapport i maj 2010.",
    "Ärendet gällde 14 kvinnor och 3 män under 2009.",
    "Mötet hölls 2010-03-11 klockan 13.00.",
    "Åklagare, Växjö åklagarkammare.",
    "Taxiägare i Alvesta och Älmhult.",
    "Ungdomsmottagningen i Lessebo och Tingsryd.",
    "Enligt SOU 2008:41 och BrB 4 kap. 1 a §.",
    "Diakon, Svenska kyrkan.",
    "Frälsningsarmén och Stadsmissionen delar ut mat.",
    "Hotellet ligger vid Stortorget i Växjö.",
    "Dag för dag blev det tydligare.",
    "Mark och vatten ägs av kommunen.",
    "Liv och hälsa kommer först.",
    "Ett gammalt ärende, dnr 123-4567-09, låg kvar.",
    "Guid 3F2504E0-4F89-11D3-9A0C-0305E82C3301 i en export.",
    "Start 1043 och slut 1187 i dokumentet polis-01.",
    "Intervjuare A frågade om beredskap och samverkan.",
    "Inga citat.",
    "Hans chef visste inget. Sanna ord, sa hon.",
]


def _covered(hits, sentence, value):
    start = sentence.index(value)
    end = start + len(value)
    return (
        any(h.start <= start and h.end >= end for h in hits)
        or any(h.start < end and h.end > start for h in hits)
        and all(
            any(h.start <= i < h.end for h in hits)
            for i in range(start, end)
            if sentence[i].isalnum()
        )
    )


def test_the_corpus_is_big_enough():
    assert sum(len(values) for _s, values in PLANTED) >= 100


@pytest.mark.parametrize("sentence,values", PLANTED, ids=[s[:40] for s, _v in PLANTED])
def test_every_planted_value_is_found(sentence, values):
    hits = Redactor().find(sentence)
    for value in values:
        assert _covered(hits, sentence, value), (value, hits)
    redacted = Redactor().redact(sentence)
    for value in values:
        assert value not in redacted


@pytest.mark.parametrize("sentence", CLEAN)
def test_ordinary_capitalised_words_are_not_flagged(sentence):
    assert Redactor().find(sentence) == []


def _write_corpus(folder):
    lines = [s for s, _v in PLANTED] + CLEAN
    (folder / "corpus.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # the same data as a CSV export would carry it: one sentence per cell
    csv_lines = ["document,speaker,text"] + [
        f'd{i},IP,"{s.replace(chr(34), chr(34) * 2)}"' for i, s in enumerate(lines)
    ]
    (folder / "corpus.csv").write_text("\n".join(csv_lines) + "\n", encoding="utf-8")
    return lines


@pytest.mark.parametrize("name", ["corpus.md", "corpus.csv"])
def test_redact_and_check_privacy_agree_line_by_line(tmp_path, monkeypatch, name):
    """Every line `redact` changes is reported by `check-privacy`, and every line reported is
    one `redact` changes: the two commands share one detector."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "qcode.yaml").write_text(
        "database: p.db\nprivate: [Grace Okafor]\n", encoding="utf-8"
    )
    _write_corpus(tmp_path)
    runner = CliRunner()
    redacted = runner.invoke(cli, ["redact", name])
    assert redacted.exit_code == 0, redacted.output
    original = (tmp_path / name).read_text(encoding="utf-8").splitlines()
    changed = {
        i + 1 for i, (a, b) in enumerate(zip(original, redacted.output.splitlines())) if a != b
    }
    checked = runner.invoke(cli, ["check-privacy", name])
    assert checked.exit_code == 1
    reported = {
        int(line.split(":")[1])
        for line in checked.output.splitlines()
        if line.startswith(f"{name}:")
    }
    assert changed == reported
    planted_lines = len(PLANTED) + (1 if name.endswith(".csv") else 0)
    assert len(changed) == len(PLANTED)
    assert max(changed) <= planted_lines
    # and the redacted file passes
    (tmp_path / ("clean-" + name)).write_text(redacted.output, encoding="utf-8")
    again = runner.invoke(cli, ["check-privacy", "clean-" + name])
    assert again.exit_code == 0, again.output


#: names no list holds, found by their shape (two capitalised words inside a sentence, a word
#: that introduces a name, a speaker label) and identifiers written with an en dash.
SHAPED = [
    ("Vi träffade Yohannes Kidane på stationen.", ["Yohannes Kidane"]),
    ("Hon heter Ngozi och är nitton år.", ["Ngozi"]),
    ("Tack Wanjiru, det var allt.", ["Wanjiru"]),
    ("Per: Vi visste inget om det.", ["Per"]),
    ("Numret 811218–9876 stod på lappen.", ["811218–9876"]),
    ("Ring 070–123 45 67 i kväll.", ["070–123 45 67"]),
]


@pytest.mark.parametrize("sentence,values", SHAPED, ids=[s[:30] for s, _v in SHAPED])
def test_names_no_list_holds_are_found_by_their_shape(sentence, values):
    hits = Redactor().find(sentence)
    for value in values:
        assert _covered(hits, sentence, value), (value, hits)
