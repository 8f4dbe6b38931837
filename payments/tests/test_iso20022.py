"""ISO 20022 files of the auto_debit method: pain.008 out, pain.002 and camt.054 in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from lxml import etree

from feemgmt.core.money import money
from payments.adapters.auto_debit import (
    Creditor,
    Debit,
    Iso20022Error,
    Mandate,
    Pain008Error,
    SequenceType,
    build_pain008,
    read_camt054,
    read_pain002,
    read_pain008,
    resolve_statuses,
)
from payments.tests.fakes.auto_debit import Booking, camt054, camt054_for, pain002_for

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "samples"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
CREATED = dt.datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 2)

CREDITOR = Creditor(
    name="示例物业管理有限公司",
    iban="DE87 2005 0000 1234 5678 90",
    bic="BANKDEFFXXX",
    creditor_id="DE98ZZZ09999999999",
)


def mandate(n: int = 1, sequence: str = "RCUR", **overrides) -> Mandate:
    values = {
        "reference": f"MNDT-{n:04d}",
        "signed_on": dt.date(2026, 1, 15),
        "debtor_name": "张三",
        "debtor_iban": "DE89370400440532013000",
        "debtor_bic": None if n % 2 else "COBADEFFXXX",
        "sequence_type": sequence,
    }
    values.update(overrides)
    return Mandate(**values)


def debit(key: str, amount: str, *, day=DAY, sequence="RCUR", n=1, **mandate_overrides) -> Debit:
    return Debit(
        end_to_end_id=key,
        amount=money(amount, "EUR"),
        collection_date=day,
        remittance=f"CHG-{key} 物业管理费 2026-12",
        mandate=mandate(n, sequence, **mandate_overrides),
    )


# Amounts whose float sum is not exact (0.1 + 0.2 ...), across two dates and two types.
DEBITS = [
    debit("E2E-0001", "0.10", n=1),
    debit("E2E-0002", "0.20", n=2),
    debit("E2E-0003", "1234567.89", n=3, sequence="FRST"),
    debit("E2E-0004", "0.30", n=4, day=DAY + dt.timedelta(days=1)),
    debit("E2E-0005", "99.99", n=5),
]


def build(debits=DEBITS, message_id="MSG-2026-11-28-1") -> bytes:
    return build_pain008(CREDITOR, debits, message_id=message_id, created_at=CREATED)


def text(element, path):
    return element.findtext(path, namespaces=NS)


# --- pain.008 out -------------------------------------------------------------------


def test_pain008_group_header_and_blocks_add_up_exactly():
    root = etree.fromstring(build())
    assert etree.QName(root).namespace == NS["p"]
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert text(header, "p:MsgId") == "MSG-2026-11-28-1"
    assert text(header, "p:CreDtTm") == "2026-11-28T09:30:15+00:00"
    assert text(header, "p:NbOfTxs") == "5"
    assert text(header, "p:CtrlSum") == "1234668.48"
    assert text(header, "p:InitgPty/p:Nm") == "Shi Li Wu Ye Guan Li You Xian Gong Si"

    blocks = root.findall("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    summary = [
        (
            text(b, "p:PmtInfId"),
            text(b, "p:ReqdColltnDt"),
            text(b, "p:PmtTpInf/p:SeqTp"),
            text(b, "p:NbOfTxs"),
            text(b, "p:CtrlSum"),
            [text(t, "p:PmtId/p:EndToEndId") for t in b.findall("p:DrctDbtTxInf", NS)],
        )
        for b in blocks
    ]
    assert summary == [
        ("MSG-2026-11-28-1-P001", "2026-12-02", "FRST", "1", "1234567.89", ["E2E-0003"]),
        (
            "MSG-2026-11-28-1-P002",
            "2026-12-02",
            "RCUR",
            "3",
            "100.29",
            ["E2E-0001", "E2E-0002", "E2E-0005"],
        ),
        ("MSG-2026-11-28-1-P003", "2026-12-03", "RCUR", "1", "0.30", ["E2E-0004"]),
    ]
    for block in blocks:
        assert text(block, "p:CdtrAcct/p:Id/p:IBAN") == "DE87200500001234567890"
        assert text(block, "p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id") == "DE98ZZZ09999999999"
        assert text(block, "p:PmtTpInf/p:LclInstrm/p:Cd") == "CORE"


def test_pain008_transactions_carry_amount_mandate_and_debtor():
    root = etree.fromstring(build())
    txs = {
        text(t, "p:PmtId/p:EndToEndId"): t
        for t in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf/p:DrctDbtTxInf", NS)
    }
    assert set(txs) == {d.end_to_end_id for d in DEBITS}
    big = txs["E2E-0003"]
    assert text(big, "p:InstdAmt") == "1234567.89"
    assert big.find("p:InstdAmt", NS).get("Ccy") == "EUR"
    assert text(big, "p:DrctDbtTx/p:MndtRltdInf/p:MndtId") == "MNDT-0003"
    assert text(big, "p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr") == "2026-01-15"
    assert text(big, "p:Dbtr/p:Nm") == "Zhang San"
    assert text(big, "p:DbtrAcct/p:Id/p:IBAN") == "DE89370400440532013000"
    assert text(big, "p:RmtInf/p:Ustrd") == "CHG-E2E-0003 Wu Ye Guan Li Fei 2026-12"
    # IBAN-only debit (no BIC) and one with the debtor's BIC.
    assert text(big, "p:DbtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"
    assert text(txs["E2E-0002"], "p:DbtrAgt/p:FinInstnId/p:BICFI") == "COBADEFFXXX"
    assert text(txs["E2E-0001"], "p:InstdAmt") == "0.10"


def test_pain008_is_valid_against_the_schema_and_deterministic():
    data = build()
    schema = xmlschema.XMLSchema(
        str(Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.08.xsd")
    )
    assert schema.is_valid(data.decode())
    assert build() == data  # same batch, same file
    # The schema check is real: it rejects a tampered file.
    broken = data.replace(b"<SeqTp>RCUR</SeqTp>", b"<SeqTp>ONCE</SeqTp>", 1)
    assert not schema.is_valid(broken.decode())


def test_pain008_reads_back_to_the_same_debits():
    initiation = read_pain008(build())
    assert initiation.version == "pain.008.001.08"
    assert initiation.number_of_transactions == 5
    assert initiation.control_sum == Decimal("1234668.48")
    assert {d.end_to_end_id: d.amount for d in initiation.debits} == {
        d.end_to_end_id: d.amount for d in DEBITS
    }
    assert initiation.payment_info_id_of("E2E-0004") == "MSG-2026-11-28-1-P003"
    first = next(d for d in initiation.debits if d.end_to_end_id == "E2E-0003")
    assert first.mandate.sequence_type == SequenceType.FIRST
    assert first.mandate.reference == "MNDT-0003"
    assert initiation.creditor.creditor_id == "DE98ZZZ09999999999"


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (debit("E2E-0009", "1.00", debtor_iban="DE89370400440532013001"), "debtor IBAN"),
        (debit("E2E-0009", "1.00", debtor_bic="NOTABIC"), "debtor BIC"),
        (debit("E2E-0009", "1.00", reference="MNDT 1"), "mandate reference"),
        (debit("E2E_0009", "1.00"), "end-to-end id"),
        (debit("E2E-0009", "1.00", day=dt.date(2026, 11, 27)), "before the file"),
        (debit("E2E-0009", "1.00", signed_on=dt.date(2026, 12, 5)), "signed after"),
        (debit("E2E-0009", "1.00", debtor_name="   "), "debtor name"),
        (debit("E2E-0001", "1.00"), "appears twice"),
    ],
)
def test_a_bad_debit_is_named_with_the_reason(bad, words):
    with pytest.raises(Pain008Error) as caught:
        build([*DEBITS, bad])
    assert caught.value.end_to_end_id == bad.end_to_end_id
    assert str(caught.value).startswith(f"Debit {bad.end_to_end_id}: ")
    assert words in str(caught.value)


def test_pain008_refuses_non_euro_and_bad_creditors():
    cny = Debit(
        end_to_end_id="E2E-0010",
        amount=money("10.00", "CNY"),
        collection_date=DAY,
        remittance="x",
        mandate=mandate(),
    )
    with pytest.raises(Pain008Error, match="CNY; SEPA direct debits are in euros only"):
        build([cny])
    bad_creditor = Creditor(
        name="X", iban="DE87200500001234567890", creditor_id="DE00ZZZ09999999999"
    )
    with pytest.raises(Pain008Error, match="creditor identifier"):
        build_pain008(bad_creditor, DEBITS, message_id="M1", created_at=CREATED)
    with pytest.raises(ValueError, match="message id"):
        build(message_id="X" * 31)
    with pytest.raises(ValueError, match="at least one debit"):
        build([])


def test_pain008_without_creditor_bic_is_still_valid():
    creditor = Creditor(
        name="Example", iban="DE87200500001234567890", creditor_id="DE98ZZZ09999999999"
    )
    data = build_pain008(creditor, DEBITS[:1], message_id="M2", created_at=CREATED)
    root = etree.fromstring(data)
    block = root.find("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    assert text(block, "p:CdtrAgt/p:FinInstnId/p:Othr/p:Id") == "NOTPROVIDED"


@pytest.mark.parametrize(
    ("name", "version", "bic"),
    [
        ("php-sepa-xml_pain.008.001.02.xml", "pain.008.001.02", "BANKDEFFXXX"),
        ("php-sepa-xml_pain.008.001.08.xml", "pain.008.001.08", "BANKDEFFXXX"),
        ("php-sepa-xml_pain.008.003.02.xml", "pain.008.003.02", "BANKDEFFXXX"),
    ],
)
def test_the_sample_pain008_files_are_read(name, version, bic):
    initiation = read_pain008((SAMPLES / "pain008" / name).read_bytes())
    assert initiation.version == version
    assert initiation.message_id == "OurMessageIdentification"
    assert initiation.number_of_transactions == 1
    assert initiation.control_sum == Decimal("12.34")
    assert initiation.creditor == Creditor(
        name="OurCorp",
        iban="BG87200500001234567890",
        bic="BANKBGFFXXX",
        creditor_id="BG40ZZZ507778",
    )
    [batch] = initiation.batches
    assert batch.payment_info_id == "OurPaymentInfo"
    assert batch.sequence_type == SequenceType.ONE_OFF
    assert batch.collection_date == dt.date(2025, 8, 19)
    [only] = batch.debits
    assert only.end_to_end_id == "SomethingUnique"
    assert only.amount == money("12.34", "EUR")
    assert only.remittance == "OurCorp Billing"
    assert only.mandate.reference == "SomeOtherUniqueThing"
    assert only.mandate.signed_on == dt.date(2025, 8, 19)
    assert only.mandate.debtor_name == "John Doe"
    assert only.mandate.debtor_iban == "DE87200500001234567890"
    assert only.mandate.debtor_bic == bic


def test_a_pain008_whose_control_sum_is_wrong_is_refused():
    data = build().replace(b"<CtrlSum>1234668.48</CtrlSum>", b"<CtrlSum>1234668.47</CtrlSum>")
    with pytest.raises(Iso20022Error) as caught:
        read_pain008(data)
    assert caught.value.element == "CtrlSum"
    assert caught.value.line == 8
    assert "1234668.47" in str(caught.value) and "1234668.48" in str(caught.value)


# --- pain.002 in ------------------------------------------------------------------------

BANK_PAIN002 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>BANK-STS-77</MsgId>
      <CreDtTm>2026-12-01T06:00:00</CreDtTm>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>MSG-2026-11-28-1</OrgnlMsgId>
      <OrgnlMsgNmId>pain.008.001.08</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>MSG-2026-11-28-1-P002</OrgnlPmtInfId>
      <PmtInfSts>PART</PmtInfSts>
      <TxInfAndSts>
        <StsId>1</StsId>
        <OrgnlEndToEndId>E2E-0002</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr><Id><OrgId><BICOrBEI>COBADEFFXXX</BICOrBEI></OrgId></Id></Orgtr>
          <Rsn><Cd>MD01</Cd></Rsn>
          <AddtlInf>No mandate</AddtlInf>
        </StsRsnInf>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="EUR">0.20</InstdAmt></Amt>
        </OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>MSG-2026-11-28-1-P003</OrgnlPmtInfId>
      <PmtInfSts>RJCT</PmtInfSts>
      <StsRsnInf><Rsn><Prtry>DATE</Prtry></Rsn></StsRsnInf>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"""


def test_a_bank_pain002_reads_group_block_and_transaction_lines():
    statuses = read_pain002(BANK_PAIN002)
    assert [(s.level, s.status, s.end_to_end_id, s.reason_code) for s in statuses] == [
        ("group", "PART", None, None),
        ("payment", "PART", None, None),
        ("transaction", "RJCT", "E2E-0002", "MD01"),
        ("payment", "RJCT", None, "DATE"),
    ]
    rejected = statuses[2]
    assert rejected.original_message_id == "MSG-2026-11-28-1"
    assert rejected.original_payment_info_id == "MSG-2026-11-28-1-P002"
    assert rejected.reason_text == "No mandate"
    assert rejected.amount == money("0.20", "EUR")
    assert rejected.line == 16
    assert rejected.rejected

    resolved = resolve_statuses(statuses, read_pain008(build()))
    assert {k: (v.status, v.reason_code) for k, v in resolved.items()} == {
        "E2E-0001": ("ACCP", None),  # PART: the unlisted ones of the block are accepted
        "E2E-0002": ("RJCT", "MD01"),
        "E2E-0003": ("ACCP", None),  # no block line: the group's PART
        "E2E-0004": ("RJCT", "DATE"),  # the whole block rejected
        "E2E-0005": ("ACCP", None),
    }


@pytest.mark.parametrize("version", ["pain.002.001.10", "pain.002.001.03"])
def test_a_generated_pain002_round_trips(version):
    pain008 = build()
    report = pain002_for(pain008, rejected={"E2E-0005": "AM04"}, version=version)
    assert etree.QName(etree.fromstring(report)).namespace.endswith(version)
    statuses = read_pain002(report)
    assert statuses[0].level == "group" and statuses[0].status == "PART"
    lines = {s.end_to_end_id: s for s in statuses if s.level == "transaction"}
    assert {k: v.status for k, v in lines.items()} == {
        "E2E-0001": "ACCP",
        "E2E-0002": "ACCP",
        "E2E-0003": "ACCP",
        "E2E-0004": "ACCP",
        "E2E-0005": "RJCT",
    }
    assert lines["E2E-0005"].reason_code == "AM04"
    assert lines["E2E-0005"].reason_text == "The debtor's account has insufficient funds."
    assert lines["E2E-0005"].amount == money("99.99", "EUR")
    assert lines["E2E-0003"].amount == money("1234567.89", "EUR")


def test_a_group_level_reject_rejects_every_debit():
    pain008 = build()
    statuses = read_pain002(pain002_for(pain008, group_reject="FF01"))
    assert [(s.level, s.status, s.reason_code) for s in statuses] == [("group", "RJCT", "FF01")]
    resolved = resolve_statuses(statuses, read_pain008(pain008))
    assert set(resolved) == {d.end_to_end_id for d in DEBITS}
    assert {(s.status, s.reason_code, s.level) for s in resolved.values()} == {
        ("RJCT", "FF01", "group")
    }
    # A report about another file decides nothing.
    other = read_pain008(build(message_id="MSG-OTHER"))
    assert resolve_statuses(statuses, other) == {}


def test_only_rejections_listed_means_the_rest_are_accepted():
    pain008 = build()
    report = pain002_for(pain008, rejected={"E2E-0001": "AC04"}, report_accepted=False)
    statuses = read_pain002(report)
    assert [s.end_to_end_id for s in statuses if s.level == "transaction"] == ["E2E-0001"]
    resolved = resolve_statuses(statuses, read_pain008(pain008))
    assert resolved["E2E-0001"].status == "RJCT"
    assert resolved["E2E-0002"].status == "ACCP"
    assert resolved["E2E-0004"].status == "ACCP"


# --- camt.054 in ------------------------------------------------------------------------


def test_camt054_v2_sample_batch_of_three_without_amounts():
    entries = read_camt054((SAMPLES / "camt054" / "genkgo_camt054.v2.xml").read_bytes())
    assert len(entries) == 3
    assert {e.end_to_end_id for e in entries} == {"MUELL/FINP/RA12345"}
    first = entries[0]
    assert first.message_id == first.notification_id == "AAAASESS-FP-ACCR001"
    assert first.account == "CH2801234000123456789"
    assert first.amount is None  # three transactions, no amount of their own
    assert first.entry_amount == money("200000", "SEK")
    assert first.credit_debit == "DBIT"
    assert first.reversal is False
    assert first.status == "BOOK"
    assert first.booking_date == dt.date(2007, 10, 18)  # from <DtTm>
    assert first.value_date == dt.date(2007, 10, 18)
    assert first.account_servicer_reference == "AAAASESS-FP-ACCR001"
    assert first.bank_transaction_code == "PMNT/ICDT/DMCT"
    assert first.return_reason is None and not first.returned
    assert [e.line for e in entries] == [79, 103, 126]


def test_camt054_v8_sample_with_uetr():
    [entry] = read_camt054((SAMPLES / "camt054" / "genkgo_camt054.v8-with-UETR.xml").read_bytes())
    assert entry.uetr == "255ae394-9965-4438-ac86-f406feada396"
    assert entry.end_to_end_id is None
    assert entry.amount == entry.entry_amount == money("200000.00", "SEK")
    assert entry.status == "BOOK"  # <Sts><Cd>BOOK</Cd></Sts>
    assert entry.credit_debit == "DBIT"
    assert entry.booking_date is None
    assert entry.bank_transaction_code is None
    assert entry.account == "CH2801234000123456789"


def test_camt054_v4_oca_sample():
    [entry] = read_camt054((SAMPLES / "camt054" / "oca_test-camt054.xml").read_bytes())
    assert entry.message_id == "20220126375204763458853"
    assert entry.notification_id == "20220120000000000000000"
    assert entry.account == "NL77ABNA0574908765"
    assert entry.entry_reference == "NL0000000000000000000"
    assert entry.end_to_end_id == "ENDTOENDID-01"
    assert entry.amount == money("5.00", "EUR")
    assert entry.credit_debit == "CRDT"
    assert entry.reversal is False
    assert entry.booking_date == entry.value_date == dt.date(2022, 1, 26)
    assert entry.account_servicer_reference == "15180015077602405"  # the transaction's
    assert entry.bank_transaction_code == "PMNT/RCDT/ATXN"
    assert entry.line == 57


@pytest.mark.parametrize("version", ["camt.054.001.08", "camt.054.001.02"])
def test_a_generated_camt054_round_trips(version):
    pain008 = build()
    data = camt054_for(
        pain008,
        rejected=["E2E-0005"],
        returns={"E2E-0001": "MD06"},
        reversals=["E2E-0002"],
        version=version,
    )
    entries = read_camt054(data)
    summary = [
        (e.end_to_end_id, e.credit_debit, e.reversal, e.return_reason, str(e.amount.amount))
        for e in entries
    ]
    assert summary == [
        ("E2E-0003", "CRDT", False, None, "1234567.89"),
        ("E2E-0001", "CRDT", False, None, "0.10"),
        ("E2E-0002", "CRDT", False, None, "0.20"),
        ("E2E-0004", "CRDT", False, None, "0.30"),
        ("E2E-0001", "DBIT", False, "MD06", "0.10"),
        ("E2E-0002", "DBIT", True, None, "0.20"),
    ]
    returned = entries[4]
    assert returned.returned
    assert returned.return_text == "The debtor asked their bank for a refund."
    assert returned.booking_date == DAY + dt.timedelta(days=5)
    assert returned.mandate_id == "MNDT-0001"
    assert returned.bank_transaction_code == "PMNT/IDDT/UPDD"
    assert entries[0].bank_transaction_code == "PMNT/IDDT/ESDD"
    assert entries[0].account == "DE87200500001234567890"
    assert entries[0].status == "BOOK"


def test_camt054_from_explicit_bookings():
    data = camt054(
        [
            Booking(
                end_to_end_id="K000042",
                amount=money("88.00", "EUR"),
                kind="returned",
                reason="AM04",
                booked_on=dt.date(2026, 12, 9),
            )
        ],
        account_iban="DE87200500001234567890",
        message_id="NTF-42",
    )
    [entry] = read_camt054(data)
    assert (entry.end_to_end_id, entry.return_reason, entry.credit_debit) == (
        "K000042",
        "AM04",
        "DBIT",
    )
    assert entry.message_id == "NTF-42"


# --- unreadable and hostile files -------------------------------------------------------


def test_malformed_xml_names_the_line():
    data = b'<?xml version="1.0"?>\n<Document>\n  <Ntry>\n</Document>\n'
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(data)
    assert caught.value.line == 4
    assert str(caught.value).startswith("Line 4: The file is not well-formed XML")


def test_the_wrong_document_is_refused_with_its_name():
    pain008 = build()
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(pain008)
    message = str(caught.value)
    assert "Expected a camt.054 document" in message
    assert "pain.008.001.08" in message and caught.value.line == 2
    with pytest.raises(Iso20022Error, match=r"Expected a pain\.002 document"):
        read_pain002((SAMPLES / "camt054" / "oca_test-camt054.xml").read_bytes())
    camt053 = (SAMPLES / "camt053" / "oca_test-camt053.xml").read_bytes()
    with pytest.raises(Iso20022Error, match=r"camt\.053"):
        read_camt054(camt053)
    v9 = (SAMPLES / "camt054" / "oca_test-camt054.xml").read_bytes().replace(b".001.04", b".001.09")
    with pytest.raises(Iso20022Error, match=r"camt\.054\.001\.09 is not a supported version"):
        read_camt054(v9)
    with pytest.raises(Iso20022Error, match="empty"):
        read_camt054(b"  ")


def test_a_bad_amount_or_missing_element_names_element_and_line():
    sample = (SAMPLES / "camt054" / "oca_test-camt054.xml").read_bytes()
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(sample.replace(b'<Amt Ccy="EUR">5.00</Amt>', b'<Amt Ccy="EUR">5,00</Amt>', 1))
    assert (caught.value.line, caught.value.element) == (33, "Amt")
    assert str(caught.value) == "Line 33, <Amt>: “5,00” is not an amount."
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(
            sample.replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>UP</CdtDbtInd>", 1)
        )
    assert caught.value.line == 34
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(sample.replace(b"<MsgId>20220126375204763458853</MsgId>", b""))
    assert "<GrpHdr/MsgId>" in str(caught.value) and caught.value.element == "BkToCstmrDbtCdtNtfctn"
    with pytest.raises(Iso20022Error, match="more decimals than EUR"):
        read_camt054(sample.replace(b">5.00</Amt>", b">5.001</Amt>", 1))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrDbtCdtNtfctn>
</Document>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
  <CstmrPmtStsRpt><OrgnlGrpInfAndSts><OrgnlMsgId>&secret;</OrgnlMsgId>
  <GrpSts>RJCT</GrpSts></OrgnlGrpInfAndSts></CstmrPmtStsRpt>
</Document>
"""


def test_entity_expansion_is_refused_not_expanded():
    with pytest.raises(Iso20022Error) as caught:
        read_camt054(BILLION_LAUGHS)
    assert str(caught.value) == (
        "Line 2: The file declares a DOCTYPE; ISO 20022 files have none, so it is refused."
    )
    assert "lollol" not in str(caught.value)
    # The same document in UTF-16 is refused the same way.
    utf16 = BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    with pytest.raises(Iso20022Error, match="DOCTYPE"):
        read_camt054(utf16.encode("utf-16-le"))


def test_an_external_entity_is_refused_not_fetched():
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    for reader in (read_pain002, read_camt054, read_pain008):
        with pytest.raises(Iso20022Error) as caught:
            reader(EXTERNAL_ENTITY)
        assert "DOCTYPE" in str(caught.value)
        if hostname:
            assert hostname not in str(caught.value)
